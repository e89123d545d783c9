using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Ds01.Core.Gpu;

/// <summary>
/// The exclusive, cross-process lock under which slots are chosen and the labelled container is created
/// (choosing and recording in separate lock holds would give two containers the same GPU).
/// flock(2) on a file in the state dir, so the util-linux `flock` command and other processes honour it, and it
/// is released by the kernel if the process dies. A timeout is an error: it never proceeds without the lock.
/// </summary>
public sealed class AllocationLock : IDisposable
{
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private const int LOCK_UN = 8;
    private const int EINTR = 4;
    private const int EACCES = 13;
    private const int EWOULDBLOCK = 11;
    // Linux values (x86-64 and arm64 agree on these).
    private const int O_RDONLY = 0;
    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    private const int O_CLOEXEC = 0x80000;

    private int _fd;
    private readonly FileStream? _windowsStream;

    private AllocationLock(string path, int fd, FileStream? windowsStream)
    {
        Path = path;
        _fd = fd;
        _windowsStream = windowsStream;
    }

    public string Path { get; }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock; creates the directory and file when missing.</summary>
    public static AllocationLock Acquire(string path, TimeSpan timeout)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        try
        {
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(path, $"its directory cannot be created: {e.Message}", e);
        }
        return OperatingSystem.IsWindows() ? AcquireWindows(path, timeout) : AcquireUnix(path, timeout);
    }

    private static AllocationLock AcquireUnix(string path, TimeSpan timeout)
    {
        // 0666 before umask: every lab user takes this lock, whoever created the file first. flock needs only
        // a readable descriptor, so a file another user created read-only still locks.
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x1B6);
        if (fd < 0 && Marshal.GetLastPInvokeError() == EACCES) fd = open(path, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw Unavailable(path, $"it cannot be opened: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", null);
        }

        var clock = Stopwatch.StartNew();
        var pause = 5;
        while (true)
        {
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) return new AllocationLock(path, fd, null);
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EWOULDBLOCK && errno != EINTR)
            {
                close(fd);
                throw Unavailable(path, $"flock failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", null);
            }
            if (clock.Elapsed >= timeout)
            {
                close(fd);
                throw Timeout(path, timeout);
            }
            // Short, growing sleeps: quick hand-over when the holder is fast, little spinning when it is not.
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(pause, Math.Max(1, (timeout - clock.Elapsed).TotalMilliseconds))));
            pause = Math.Min(pause * 2, 50);
        }
    }

    // Windows is not a server target; FileShare.None is a real mandatory lock there, so the same contract holds.
    private static AllocationLock AcquireWindows(string path, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new AllocationLock(path, -1, new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (clock.Elapsed < timeout)
            {
                Thread.Sleep(20);
            }
            catch (IOException)
            {
                throw Timeout(path, timeout);
            }
        }
    }

    public void Dispose()
    {
        _windowsStream?.Dispose();
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        flock(fd, LOCK_UN);
        close(fd);
    }

    private static Ds01Exception Timeout(string path, TimeSpan timeout) =>
        new(Ds01ErrorKind.ResourceBusy, "AllocationLockTimeout",
            $"Another GPU allocation held the lock '{path}' for longer than {timeout.TotalSeconds:0.###} s; nothing was allocated.",
            path, "Try again in a moment. If it persists, find the holder with `fuser -v " + path + "` or raise lock_timeout_seconds in gpu-config.yaml.");

    private static Ds01Exception Unavailable(string path, string why, Exception? inner) =>
        new(Ds01ErrorKind.PermissionDenied, "AllocationLockUnavailable",
            $"The GPU allocation lock '{path}' cannot be taken: {why}; nothing was allocated.", path,
            $"Check that the state dir exists and is writable by lab users, or set ${Ds01Paths.StateDirVariable}.", inner);

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}

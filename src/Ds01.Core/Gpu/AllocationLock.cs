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
        var fd = OpenLockFile(path);
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

    /// <summary>
    /// Opens the lock file without trusting what is at its name: never through a symlink, never blocking on a FIFO,
    /// only a regular file. In a root-owned state dir (a lab server) the file must be root's: a lock file that a
    /// user owns can be chmod-ed by them so nobody else may open it, and the install step creates it
    /// (README, "Install on a lab server"). In a private state dir (tests, a single-user machine) it is created
    /// on first use, as before.
    /// </summary>
    private static int OpenLockFile(string path)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? "/";
        var shared = Posix.Stat(dir) is { Uid: 0 };
        var root = Posix.EffectiveUid == 0;
        var flags = Posix.O_NOFOLLOW | Posix.O_NONBLOCK;
        int fd;
        if (!shared || root)
        {
            // 0666 before umask in a private dir (whoever shares it may lock); 0644 for root's shared file (flock needs only read).
            fd = Posix.Open(path, Posix.O_RDWR | Posix.O_CREAT | flags, shared ? 0x1A4 : 0x1B6);
            if (fd == -EACCES) fd = Posix.Open(path, Posix.O_RDONLY | flags);
        }
        else
        {
            fd = Posix.Open(path, Posix.O_RDONLY | flags);
            if (fd == -Posix.ENOENT)
                throw Unavailable(path, "it does not exist, and in a root-owned state dir only root may create it (the install step does)", null);
        }
        if (fd < 0)
            throw Unavailable(path, -fd == Posix.ELOOP ? "it is a symbolic link" : $"it cannot be opened: {Posix.Error(fd)} (errno {-fd})", null);
        FileStatus st;
        try { st = Posix.Stat(fd); }
        catch (IOException e) { close(fd); throw Unavailable(path, e.Message, e); }
        string? why = null;
        if (!st.IsRegular) why = "it is not a regular file";
        else if (shared && st.Uid != 0) why = $"it belongs to uid {st.Uid}, not root, so that user could lock everyone out or remove it while it is held";
        if (why is not null)
        {
            close(fd);
            throw Unavailable(path, why, null);
        }
        return fd;
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

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}

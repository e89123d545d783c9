using System.Runtime.InteropServices;

namespace Ds01.Core.Maintenance;

/// <summary>
/// $DS01_STATE_DIR/maintenance.lock: an exclusive flock(2) taken without waiting, so a second maintenance run
/// fails at once instead of acting on the same containers. The kernel releases it if the process dies.
/// (Separate from the allocation lock, which only the GPU placement takes.)
/// </summary>
public sealed class MaintenanceLock : IDisposable
{
    private const int O_RDWR = 2, O_CREAT = 0x40, O_CLOEXEC = 0x80000, LOCK_EX = 2, LOCK_NB = 4, EWOULDBLOCK = 11;
    private int _fd;

    private MaintenanceLock(int fd) => _fd = fd;

    public static MaintenanceLock Acquire(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, Convert.ToInt32("600", 8));
        if (fd < 0)
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "MaintenanceLockUnavailable",
                $"Cannot open the maintenance lock {path} (errno {Marshal.GetLastPInvokeError()}).", path, "Run maintenance as root.");
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) return new MaintenanceLock(fd);
        var errno = Marshal.GetLastPInvokeError();
        close(fd);
        if (errno == EWOULDBLOCK)
            throw new Ds01Exception(Ds01ErrorKind.ResourceBusy, "MaintenanceRunning", "Another maintenance run holds the lock; this one did nothing.", path,
                "Wait for it to finish (systemctl status ds01-maintenance.service), then run again.");
        throw new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "MaintenanceLockUnavailable", $"flock on {path} failed (errno {errno}).", path);
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        close(_fd); // closing the descriptor releases the flock
        _fd = -1;
    }

    [DllImport("libc", SetLastError = true)] private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
    [DllImport("libc", SetLastError = true)] private static extern int flock(int fd, int operation);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ds01.Core;

/// <summary>What statx(2) says about a path or an open descriptor.</summary>
internal readonly record struct FileStatus(uint Mode, int Uid, int Gid, long Size, ulong Inode, uint DevMajor, uint DevMinor)
{
    private const uint TypeMask = 0xF000;
    public bool IsDirectory => (Mode & TypeMask) == 0x4000;
    public bool IsRegular => (Mode & TypeMask) == 0x8000;
    public bool IsSymlink => (Mode & TypeMask) == 0xA000;
    public bool IsFifo => (Mode & TypeMask) == 0x1000;
    /// <summary>Group or others may write.</summary>
    public bool WritableByOthers => (Mode & 0x12) != 0;
    public bool Sticky => (Mode & 0x200) != 0;
    public bool SameFileAs(FileStatus other) => Inode == other.Inode && DevMajor == other.DevMajor && DevMinor == other.DevMinor;
}

/// <summary>The few POSIX calls .NET lacks.</summary>
internal static class Posix
{
    [DllImport("libc", SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    [DllImport("libc", SetLastError = true, EntryPoint = "open")]
    private static extern int open_([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int openat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkdirat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int fchown(int fd, int owner, int group);

    [DllImport("libc", SetLastError = true)]
    private static extern int fchmod(int fd, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc")]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true, EntryPoint = "realpath")]
    private static extern IntPtr realpath_([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc")]
    private static extern void free(IntPtr p);

    /// <summary>realpath(3): every link resolved; null when the path does not exist.</summary>
    public static string? RealPath(string path)
    {
        var p = realpath_(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { free(p); }
    }

    // Linux values (x86-64 and arm64 agree on these).
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;
    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_BASIC_STATS = 0x7ff;
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int ELOOP = 40;

    public static int EffectiveUid => OperatingSystem.IsWindows() ? -1 : (int)geteuid();

    /// <summary>Changes the owner of the path itself, never of a symlink's target (a user could plant one).</summary>
    public static void Lchown(string path, int uid, int gid)
    {
        if (lchown(path, uid, gid) != 0)
            throw new IOException($"chown {path} to {uid}:{gid} failed (errno {Marshal.GetLastWin32Error()})");
    }

    /// <summary>stat of the path (following links unless <paramref name="noFollow"/>); null when it does not exist.</summary>
    public static FileStatus? Stat(string path, bool noFollow = false)
    {
        var buf = new byte[256];
        if (statx(AT_FDCWD, path, noFollow ? AT_SYMLINK_NOFOLLOW : 0, STATX_BASIC_STATS, buf) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or 20 /* ENOTDIR */) return null;
            throw new IOException($"stat {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
        return Read(buf);
    }

    /// <summary>stat of an open descriptor.</summary>
    public static FileStatus Stat(int fd)
    {
        var buf = new byte[256];
        if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buf) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"stat of descriptor {fd} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
        return Read(buf);
    }

    // struct statx has one layout on every Linux architecture (unlike struct stat).
    private static FileStatus Read(byte[] b) => new(
        BitConverter.ToUInt16(b, 28), (int)BitConverter.ToUInt32(b, 20), (int)BitConverter.ToUInt32(b, 24),
        (long)BitConverter.ToUInt64(b, 40), BitConverter.ToUInt64(b, 32), BitConverter.ToUInt32(b, 136), BitConverter.ToUInt32(b, 140));

    /// <summary>open(2); returns the descriptor or -errno.</summary>
    public static int Open(string path, int flags, int mode = 0)
    {
        var fd = open_(path, flags | O_CLOEXEC, mode);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>openat(2) relative to a directory descriptor; returns the descriptor or -errno.</summary>
    public static int OpenAt(int dirFd, string name, int flags, int mode = 0)
    {
        var fd = openat(dirFd, name, flags | O_CLOEXEC, mode);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>mkdirat(2); 0 or -errno.</summary>
    public static int MkdirAt(int dirFd, string name, int mode) =>
        mkdirat(dirFd, name, mode) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    public static void Fchown(int fd, int uid, int gid)
    {
        if (fchown(fd, uid, gid) != 0)
            throw new IOException($"chown of descriptor {fd} to {uid}:{gid} failed (errno {Marshal.GetLastWin32Error()})");
    }

    public static void Fchmod(int fd, int mode)
    {
        if (fchmod(fd, mode) != 0)
            throw new IOException($"chmod of descriptor {fd} to {Convert.ToString(mode, 8)} failed (errno {Marshal.GetLastWin32Error()})");
    }

    public static void Close(int fd)
    {
        if (fd >= 0) close(fd);
    }

    public static string Error(int negativeErrno) => Marshal.GetPInvokeErrorMessage(-negativeErrno);

    /// <summary>
    /// Reads a shared or config file without trusting it: never blocks on a FIFO, refuses anything that is not a
    /// regular file, and reads at most <paramref name="maxBytes"/> (a huge or sparse file is refused, not loaded).
    /// Throws <see cref="UntrustedFileException"/> with the reason.
    /// </summary>
    public static string ReadBoundedText(string path, long maxBytes, bool noFollow = false)
    {
        var fd = Open(path, O_RDONLY | O_NONBLOCK | (noFollow ? O_NOFOLLOW : 0));
        if (fd < 0)
            throw new UntrustedFileException(path, -fd == ELOOP ? "it is a symbolic link" : Error(fd), -fd);
        using var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        var st = Stat(fd);
        if (st.IsDirectory) throw new UntrustedFileException(path, "it is a directory, not a file", 21);
        if (!st.IsRegular) throw new UntrustedFileException(path, "it is not a regular file (a pipe, socket or device)", 0);
        if (st.Size > maxBytes) throw new UntrustedFileException(path, $"it is {st.Size} bytes, more than the {maxBytes} allowed", 27);
        var buffer = new byte[st.Size + 1];
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            if (n == 0) break;
            total += n;
        }
        if (total > maxBytes) throw new UntrustedFileException(path, $"it grew past the {maxBytes} bytes allowed", 27);
        return new System.Text.UTF8Encoding(false).GetString(buffer, 0, total);
    }
}

/// <summary>A file that was not read because it is not what it should be (a directory, a FIFO, too big, unreadable).</summary>
internal sealed class UntrustedFileException : IOException
{
    public UntrustedFileException(string path, string reason, int errno) : base($"'{path}' cannot be read: {reason}")
    {
        FilePath = path;
        Reason = reason;
        Errno = errno;
    }

    public string FilePath { get; }
    public string Reason { get; }
    public int Errno { get; }
}

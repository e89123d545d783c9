using System.Runtime.InteropServices;

namespace Ds01.Service.Binds;

/// <summary>
/// The Linux calls behind BindMounter: openat2 (resolve without links), open_tree/mount_setattr/move_mount (a
/// detached clone of the opened directory, flagged and idmapped before it is attached), the classic mount for
/// kernels without the new mount API, umount2 and statx. Syscall numbers are the same on x86_64 and aarch64
/// (the unified table from 424 on).
/// </summary>
internal static class MountSyscalls
{
    public const int AtFdCwd = -100;
    public const int AtEmptyPath = 0x1000;
    public const long SysOpenTree = 428, SysMoveMount = 429, SysOpenat2 = 437, SysMountSetattr = 442;
    public const ulong ResolveNoMagiclinks = 0x02, ResolveNoSymlinks = 0x04, ResolveBeneath = 0x08;
    public const uint OpenTreeCloneFlag = 1;
    public const uint MoveMountFEmptyPath = 0x04;
    public const ulong MountAttrRdonly = 0x1, MountAttrNosuid = 0x2, MountAttrNodev = 0x4, MountAttrIdmap = 0x0010_0000;
    public const ulong MsRdonly = 1, MsNosuid = 2, MsNodev = 4, MsRemount = 32, MsBind = 4096;
    public const int MntDetach = 2;
    public const int ELoop = 40, EXDev = 18, ENoSys = 38, EInval = 22, EPerm = 1, EOpNotSupp = 95, ENoEnt = 2;

    public static readonly ulong OPath = 0x200000;
    public static readonly ulong OCloexec = 0x80000;
    public static ulong ODirectory => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000UL : 0x10000UL;

    [StructLayout(LayoutKind.Sequential)]
    public struct OpenHow { public ulong Flags; public ulong Mode; public ulong Resolve; }

    [StructLayout(LayoutKind.Sequential)]
    public struct MountAttr { public ulong AttrSet; public ulong AttrClr; public ulong Propagation; public ulong UsernsFd; }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long SyscallOpenat2(long n, int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref OpenHow how, nuint size);
    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long SyscallOpenTree(long n, int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint flags);
    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long SyscallMountSetattr(long n, int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint flags, ref MountAttr attr, nuint size);
    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long SyscallMoveMount(long n, int fromDirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string fromPath, int toDirfd,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string toPath, uint flags);
    [DllImport("libc", EntryPoint = "mount", SetLastError = true)]
    private static extern int MountC([MarshalAs(UnmanagedType.LPUTF8Str)] string? source, [MarshalAs(UnmanagedType.LPUTF8Str)] string target,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string? fstype, ulong flags, IntPtr data);
    [DllImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static extern int Umount2C([MarshalAs(UnmanagedType.LPUTF8Str)] string target, int flags);
    [DllImport("libc", EntryPoint = "close")]
    private static extern int CloseC(int fd);
    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int StatxC(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>openat2 as O_PATH; returns the fd or -errno.</summary>
    public static int OpenPath(int dirfd, string path, bool directory, ulong resolve)
    {
        var how = new OpenHow { Flags = OPath | OCloexec | (directory ? ODirectory : 0), Resolve = resolve };
        var fd = SyscallOpenat2(SysOpenat2, dirfd, path, ref how, (nuint)Marshal.SizeOf<OpenHow>());
        return fd < 0 ? -Errno : (int)fd;
    }

    /// <summary>A detached clone of the mount at fd (not its submounts); returns the fd or -errno.</summary>
    public static int OpenTreeClone(int fd)
    {
        var r = SyscallOpenTree(SysOpenTree, fd, "", OpenTreeCloneFlag | (uint)OCloexec | AtEmptyPath);
        return r < 0 ? -Errno : (int)r;
    }

    public static int SetAttr(int treeFd, ulong set, int usernsFd)
    {
        var attr = new MountAttr { AttrSet = set, UsernsFd = usernsFd < 0 ? 0UL : (ulong)usernsFd };
        return SyscallMountSetattr(SysMountSetattr, treeFd, "", AtEmptyPath, ref attr, (nuint)Marshal.SizeOf<MountAttr>()) < 0 ? -Errno : 0;
    }

    public static int MoveMount(int treeFd, string target) =>
        SyscallMoveMount(SysMoveMount, treeFd, "", AtFdCwd, target, MoveMountFEmptyPath) < 0 ? -Errno : 0;

    public static int Mount(string? source, string target, ulong flags) => MountC(source, target, null, flags, IntPtr.Zero) < 0 ? -Errno : 0;

    public static int Unmount(string target) => Umount2C(target, MntDetach) < 0 ? -Errno : 0;

    public static void Close(int fd)
    {
        if (fd >= 0) CloseC(fd);
    }

    public sealed record Stat(uint Uid, uint Gid, uint Mode)
    {
        public bool IsDirectory => (Mode & 0xF000) == 0x4000;
        public bool IsRegularFile => (Mode & 0xF000) == 0x8000;
    }

    /// <summary>statx of the fd itself (AT_EMPTY_PATH): owner and type of what was opened, not of a path.</summary>
    public static Stat? StatFd(int fd)
    {
        var buffer = new byte[256];
        if (StatxC(fd, "", AtEmptyPath, 0x7ff, buffer) != 0) return null;
        return new Stat(BitConverter.ToUInt32(buffer, 20), BitConverter.ToUInt32(buffer, 24), BitConverter.ToUInt16(buffer, 28));
    }
}

using System.Runtime.InteropServices;

namespace Ds01.Core.Identity;

/// <summary>
/// Reads the invoking user from the kernel (geteuid) and the account database through libc (getpwuid_r,
/// getgrouplist), so LDAP/SSSD accounts resolve and no environment variable can change who you are.
/// </summary>
public sealed class OsIdentitySource : IIdentitySource
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public IntPtr Name;
        public IntPtr Password;
        public uint Uid;
        public uint Gid;
        public IntPtr Gecos;
        public IntPtr Dir;
        public IntPtr Shell;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Group
    {
        public IntPtr Name;
        public IntPtr Password;
        public uint Gid;
        public IntPtr Members;
    }

    [DllImport("libc", SetLastError = true)] private static extern uint geteuid();
    [DllImport("libc", SetLastError = true)]
    private static extern int getpwuid_r(uint uid, out Passwd pwd, IntPtr buf, UIntPtr buflen, out IntPtr result);
    [DllImport("libc", SetLastError = true)]
    private static extern int getpwnam_r([MarshalAs(UnmanagedType.LPUTF8Str)] string name, out Passwd pwd, IntPtr buf, UIntPtr buflen, out IntPtr result);
    [DllImport("libc", SetLastError = true)]
    private static extern int getgrgid_r(uint gid, out Group grp, IntPtr buf, UIntPtr buflen, out IntPtr result);
    [DllImport("libc", SetLastError = true)]
    private static extern int getgrouplist([MarshalAs(UnmanagedType.LPUTF8Str)] string user, uint group, [Out] uint[] groups, ref int ngroups);

    private const int BufferSize = 64 * 1024;

    public UserIdentity Current()
    {
        var uid = geteuid();
        return FindByUid((int)uid) ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "CurrentUserUnknown",
            $"The account database has no entry for uid {uid}.", uid,
            "Ask an admin to check that your account resolves with 'getent passwd'.");
    }

    public UserIdentity? FindByUid(int uid) => Lookup((IntPtr buf, out Passwd p, out IntPtr res) =>
        getpwuid_r((uint)uid, out p, buf, (UIntPtr)BufferSize, out res));

    public UserIdentity? FindByName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('\0')) return null;
        return Lookup((IntPtr buf, out Passwd p, out IntPtr res) => getpwnam_r(name, out p, buf, (UIntPtr)BufferSize, out res));
    }

    private delegate int PwCall(IntPtr buf, out Passwd pwd, out IntPtr result);

    private static UserIdentity? Lookup(PwCall call)
    {
        var buf = Marshal.AllocHGlobal(BufferSize);
        try
        {
            // The strings live in buf, which stays allocated until we have copied them.
            var rc = call(buf, out var pwd, out var result);
            if (rc != 0 || result == IntPtr.Zero) return null;
            var name = Marshal.PtrToStringUTF8(pwd.Name) ?? "";
            var home = Marshal.PtrToStringUTF8(pwd.Dir) ?? "/";
            return new UserIdentity(name, (int)pwd.Uid, (int)pwd.Gid, home, GroupNames(name, pwd.Gid));
        }
        finally
        {
            Marshal.FreeHGlobal(buf);
        }
    }

    private static IReadOnlyList<string> GroupNames(string user, uint primary)
    {
        var n = 64;
        var ids = new uint[n];
        if (getgrouplist(user, primary, ids, ref n) < 0)
        {
            ids = new uint[n];
            if (getgrouplist(user, primary, ids, ref n) < 0) n = 0;
        }
        var names = new List<string>();
        var buf = Marshal.AllocHGlobal(BufferSize);
        try
        {
            foreach (var gid in ids.Take(n).Distinct())
            {
                if (getgrgid_r(gid, out var g, buf, (UIntPtr)BufferSize, out var res) == 0 && res != IntPtr.Zero)
                {
                    var gname = Marshal.PtrToStringUTF8(g.Name);
                    if (!string.IsNullOrEmpty(gname)) names.Add(gname!);
                }
            }
        }
        finally
        {
            Marshal.FreeHGlobal(buf);
        }
        return names;
    }
}

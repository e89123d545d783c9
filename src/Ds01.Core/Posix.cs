using System.Runtime.InteropServices;

namespace Ds01.Core;

/// <summary>The few POSIX calls .NET lacks.</summary>
internal static class Posix
{
    [DllImport("libc", SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

    /// <summary>Changes the owner of the path itself, never of a symlink's target (a user could plant one).</summary>
    public static void Lchown(string path, int uid, int gid)
    {
        if (lchown(path, uid, gid) != 0)
            throw new IOException($"chown {path} to {uid}:{gid} failed (errno {Marshal.GetLastWin32Error()})");
    }
}

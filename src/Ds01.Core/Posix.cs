using System.Runtime.InteropServices;

namespace Ds01.Core;

/// <summary>The few POSIX calls .NET lacks.</summary>
internal static class Posix
{
    [DllImport("libc", SetLastError = true)]
    private static extern int chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

    public static void Chown(string path, int uid, int gid)
    {
        if (chown(path, uid, gid) != 0)
            throw new IOException($"chown {path} to {uid}:{gid} failed (errno {Marshal.GetLastWin32Error()})");
    }
}

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ds01.Core.Identity;

/// <summary>
/// Writes an admin (root) makes into a user's files: every path component is opened relative to its parent with
/// O_NOFOLLOW, so a symlink the user planted anywhere on the way (~/dockerfiles -> /etc, directories included)
/// is refused instead of followed. A link that root owns (an admin's /home -> /data/home) is trusted. Missing
/// directories are created and given to the user; the file is written under a new name and renamed into place,
/// all through the open directory, so nothing the user swaps meanwhile changes where the bytes land.
/// A user writing their own files needs none of this: the kernel applies their own rights.
/// </summary>
public static class UserTree
{
    [DllImport("libc", SetLastError = true)]
    private static extern int renameat(int olddirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, int newdirfd,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlinkat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int readlinkat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buf, UIntPtr size);

    /// <summary>True when writes by the caller for <paramref name="owner"/> must not follow the owner's links.</summary>
    public static bool ActingForOther(UserIdentity caller, UserIdentity owner) => caller.Uid != owner.Uid;

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> (its directories created for the owner), never through a user's link.</summary>
    public static void WriteFile(string path, string text, UserIdentity owner, bool chown, int mode = 0x1A4)
    {
        var dir = OpenDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!, owner, create: true, chown);
        try
        {
            var name = Path.GetFileName(path);
            var temp = $".{name}.{Guid.NewGuid():N}.tmp";
            var fd = Posix.OpenAt(dir, temp, Posix.O_WRONLY | Posix.O_CREAT | Posix.O_EXCL | Posix.O_NOFOLLOW, mode);
            if (fd < 0) throw new IOException($"Cannot create '{temp}' in '{Path.GetDirectoryName(path)}': {Posix.Error(fd)}");
            try
            {
                using (var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: false))
                using (var stream = new FileStream(handle, FileAccess.Write))
                {
                    var bytes = new System.Text.UTF8Encoding(false).GetBytes(text);
                    stream.Write(bytes);
                }
                if (chown) Posix.Fchown(fd, owner.Uid, owner.Gid);
            }
            catch
            {
                unlinkat(dir, temp, 0);
                throw;
            }
            finally
            {
                Posix.Close(fd);
            }
            // rename(2) replaces whatever has the name, a planted symlink included, and never follows it.
            if (renameat(dir, temp, dir, name) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                unlinkat(dir, temp, 0);
                throw new IOException($"Cannot rename into '{path}': {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
        finally
        {
            Posix.Close(dir);
        }
    }

    /// <summary>Creates <paramref name="path"/> and the directories above it that are missing, for the owner, never through a user's link.</summary>
    public static void CreateDirectory(string path, UserIdentity owner, bool chown, int mode = 0x1ED) =>
        Posix.Close(OpenDirectory(Path.GetFullPath(path), owner, create: true, chown, mode));

    /// <summary>
    /// Reads the regular file <paramref name="path"/> (null when it or a directory above it is missing) through the
    /// same walk as a write: a user's link on the way, or at the file itself, is refused, never followed, so an
    /// admin acting for the user never reads (and builds from) a file the link points at.
    /// </summary>
    public static string? ReadFile(string path, UserIdentity owner)
    {
        var full = Path.GetFullPath(path);
        var dir = OpenDirectory(Path.GetDirectoryName(full)!, owner, create: false, chown: false, missingOk: true);
        if (dir < 0) return null;
        try
        {
            var fd = Posix.OpenAt(dir, Path.GetFileName(full), Posix.O_RDONLY | Posix.O_NOFOLLOW | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
            if (fd == -Posix.ENOENT) return null;
            if (fd == -Posix.ELOOP) throw Refused(full, "it is a symbolic link");
            if (fd < 0) throw new IOException($"Cannot open '{full}': {Posix.Error(fd)}");
            using var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
            if (!Posix.Stat(fd).IsRegular) throw Refused(full, "it is not a regular file");
            using var stream = new FileStream(handle, FileAccess.Read);
            using var reader = new StreamReader(stream, new System.Text.UTF8Encoding(false));
            return reader.ReadToEnd();
        }
        finally
        {
            Posix.Close(dir);
        }
    }

    /// <summary>
    /// Whether something (a file, a directory, a link) has the name <paramref name="path"/>, looked at without
    /// following a user's link on the way: such a link is refused (UserPathIsSymlink), as a write there would be.
    /// </summary>
    public static bool Exists(string path, UserIdentity owner)
    {
        var full = Path.GetFullPath(path);
        var dir = OpenDirectory(Path.GetDirectoryName(full)!, owner, create: false, chown: false, missingOk: true);
        if (dir < 0) return false;
        try
        {
            var fd = Posix.OpenAt(dir, Path.GetFileName(full), Posix.O_PATH | Posix.O_NOFOLLOW);
            if (fd < 0) return false;
            Posix.Close(fd);
            return true;
        }
        finally
        {
            Posix.Close(dir);
        }
    }

    /// <summary>
    /// Opens a directory walking from / one component at a time. A component that is a symlink is followed only
    /// when root owns the link; otherwise <see cref="Ds01ErrorKind.PermissionDenied"/>. Returns the descriptor.
    /// </summary>
    /// <param name="mode">The mode of directories made on the way (0755; 0700 for ~/.ssh).</param>
    /// <param name="missingOk">A missing component answers -1 instead of an error.</param>
    public static int OpenDirectory(string path, UserIdentity owner, bool create, bool chown, int mode = 0x1ED, bool missingOk = false)
    {
        var hops = 0;
        var parts = new Queue<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var cur = Posix.Open("/", Posix.O_RDONLY | Posix.O_DIRECTORY);
        if (cur < 0) throw new IOException($"Cannot open /: {Posix.Error(cur)}");
        var walked = "";
        try
        {
            while (parts.Count > 0)
            {
                var part = parts.Dequeue();
                if (part == ".") continue;
                if (part == "..")
                {
                    // Only a root-owned link's target brings '..' (GetFullPath removed the caller's): walk again to the parent.
                    var up = walked.Split('/', StringSplitOptions.RemoveEmptyEntries).SkipLast(1);
                    parts = new Queue<string>(up.Concat(parts.ToArray()));
                    Posix.Close(cur);
                    cur = Posix.Open("/", Posix.O_RDONLY | Posix.O_DIRECTORY);
                    walked = "";
                    if (++hops > 40) throw Refused(path, "too many symbolic links");
                    continue;
                }
                var next = Posix.OpenAt(cur, part, Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_NOFOLLOW);
                if (next == -Posix.ENOENT && create)
                {
                    var made = Posix.MkdirAt(cur, part, mode);
                    if (made < 0 && made != -Posix.EEXIST) throw new IOException($"Cannot create '{walked}/{part}': {Posix.Error(made)}");
                    next = Posix.OpenAt(cur, part, Posix.O_RDONLY | Posix.O_DIRECTORY | Posix.O_NOFOLLOW);
                    if (next >= 0 && made == 0 && chown) Posix.Fchown(next, owner.Uid, owner.Gid);
                }
                if (next < 0 && (-next == Posix.ELOOP || -next == 20 /* ENOTDIR: a link to a file, or a file */))
                {
                    // A symlink: trusted only when root made it (the user cannot replace a root-owned link in a root-owned dir).
                    var link = Posix.OpenAt(cur, part, Posix.O_PATH | Posix.O_NOFOLLOW);
                    if (link < 0) throw new IOException($"Cannot open '{walked}/{part}': {Posix.Error(link)}");
                    FileStatus st;
                    FileStatus parent;
                    try { st = Posix.Stat(link); parent = Posix.Stat(cur); }
                    finally { Posix.Close(link); }
                    if (!st.IsSymlink) throw Refused(path, $"'{walked}/{part}' is not a directory");
                    if (st.Uid != 0 || parent.Uid != 0 || (parent.WritableByOthers && !parent.Sticky))
                        throw Refused(path, $"'{walked}/{part}' is a symbolic link that uid {st.Uid} made");
                    if (++hops > 40) throw Refused(path, "too many symbolic links");
                    var target = ReadLink(cur, part);
                    var rest = parts.ToArray();
                    parts = new Queue<string>(target.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest));
                    if (target.StartsWith('/'))
                    {
                        Posix.Close(cur);
                        cur = Posix.Open("/", Posix.O_RDONLY | Posix.O_DIRECTORY);
                        walked = "";
                    }
                    continue;
                }
                if (next == -Posix.ENOENT && missingOk) return -1;
                if (next < 0) throw new IOException($"Cannot open '{walked}/{part}': {Posix.Error(next)}");
                Posix.Close(cur);
                cur = next;
                walked += "/" + part;
            }
            var result = cur;
            cur = -1;
            return result;
        }
        finally
        {
            Posix.Close(cur);
        }
    }

    private static string ReadLink(int dir, string name)
    {
        var buf = new byte[4096];
        var n = readlinkat(dir, name, buf, (UIntPtr)buf.Length);
        if (n < 0) throw new IOException($"Cannot read the link '{name}': {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return System.Text.Encoding.UTF8.GetString(buf, 0, n);
    }

    private static Ds01Exception Refused(string path, string why) =>
        new(Ds01ErrorKind.PermissionDenied, "UserPathIsSymlink",
            $"Ds01 does not read or write '{path}' for another user: {why}. An admin's access to a user's files never follows the user's links.", path,
            "Ask the user to replace the link with a real directory, or write the file yourself as that user.");
}

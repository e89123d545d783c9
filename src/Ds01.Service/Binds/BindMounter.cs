using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ds01.Core;
using Ds01.Core.Identity;
using Microsoft.Win32.SafeHandles;
using static Ds01.Service.Binds.MountSyscalls;

namespace Ds01.Service.Binds;

/// <summary>One bind a create asked for: the host path the policy checked (no links in it), and whether it is read-only.</summary>
internal sealed record BindSource(int Index, string Path, bool ReadOnly);

/// <summary>
/// Makes the directory Docker mounts the one ds01d checked. Docker resolves a bind source (symlinks included) when
/// it starts the container, so a user who swaps a component of their path for a link to /etc between the check
/// and the start would get /etc. Instead ds01d opens the checked path without following any link
/// (openat2 RESOLVE_NO_SYMLINKS from the allowed root, RESOLVE_BENEATH), checks type and owner on the open fd,
/// and attaches a detached clone of that very directory at ROOT/DIR/N (root-owned, nothing in it the user
/// controls), flagged nosuid,nodev (and read-only when asked) and, where the kernel and file system allow,
/// idmapped so that container uid/gid 0 writes as 65534 on the host and only the owner's own ids map at all:
/// a file made inside by a root process never becomes a setuid-root (or setuid-another-user) file on the host.
/// The create body then names ROOT/DIR/N instead of the user's path.
/// </summary>
internal sealed class BindMounter
{
    /// <summary>The id container root's files get on disk through an idmapped bind (nobody).</summary>
    public const int Unprivileged = 65534;

    private readonly Dictionary<(int Uid, int Gid), SafeFileHandle> _userns = new();
    private readonly object _gate = new();
    private readonly Action<string> _warn;
    private int _idmapped, _plain;

    public BindMounter(string root, Action<string> warn)
    {
        Root = Path.GetFullPath(root).TrimEnd('/');
        _warn = warn;
    }

    public string Root { get; }

    /// <summary>Why the last bind could not be idmapped (null while every bind was).</summary>
    public string? IdmapProblem { get; private set; }

    public int IdmappedCount => _idmapped;
    public int PlainCount => _plain;

    /// <summary>One line for the status page and the log.</summary>
    public string Describe() => IdmapProblem is null
        ? $"binds: ds01d's own nosuid,nodev idmapped mounts under {Root} (container root writes as {Unprivileged}); {_idmapped} made"
        : $"binds: nosuid,nodev only, NOT idmapped ({IdmapProblem}): a root process in a container can leave root-owned files on the host; {_idmapped} idmapped, {_plain} plain";

    /// <summary>A fresh directory name for one container's binds: its tag (for a reader) and random (a rename or a new container of the same name never meets it).</summary>
    public string NewDirectory(string tag) => Path.Combine(Root, $"{tag}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant()}");

    public static string Target(string dir, int index) => Path.Combine(dir, index.ToString(CultureInfo.InvariantCulture));

    /// <summary>The bind directory a mount source belongs to, when it is one of ours (ROOT/DIR/N).</summary>
    public (string Dir, int Index)? Parse(string source)
    {
        if (!source.StartsWith(Root + "/", StringComparison.Ordinal)) return null;
        var parts = source[(Root.Length + 1)..].Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[0] is "." or ".." ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return null;
        return (Path.Combine(Root, parts[0]), n);
    }

    /// <summary>Mounts every source under <paramref name="dir"/>; true when all are idmapped. On any failure removes what it mounted and throws.</summary>
    public bool MountAll(string dir, IReadOnlyList<BindSource> sources, IReadOnlyList<string> allowedRoots, UserIdentity owner)
    {
        try
        {
            var all = true;
            foreach (var s in sources) all &= Mount(Target(dir, s.Index), s, allowedRoots, owner);
            return all;
        }
        catch
        {
            Remove(dir);
            throw;
        }
    }

    public bool Mount(string target, BindSource source, IReadOnlyList<string> allowedRoots, UserIdentity owner)
    {
        var root = allowedRoots.Select(r => r.TrimEnd('/'))
            .Where(r => source.Path == r || source.Path == "/" + r || source.Path.StartsWith(r + "/", StringComparison.Ordinal))
            .OrderByDescending(r => r.Length).FirstOrDefault()
            ?? throw Deny("MountOutsideAllowedRoots", $"The bind source '{source.Path}' is outside the directories you may mount.", source.Path);
        var rootFd = OpenPath(AtFdCwd, root.Length == 0 ? "/" : root, true, ResolveNoSymlinks | ResolveNoMagiclinks);
        if (rootFd < 0) throw Changed(source.Path, -rootFd);
        var fd = -1;
        try
        {
            var rel = source.Path.Length <= root.Length + 1 ? "." : source.Path[(root.Length + 1)..];
            fd = OpenPath(rootFd, rel, false, ResolveBeneath | ResolveNoSymlinks | ResolveNoMagiclinks);
            if (fd < 0) throw Changed(source.Path, -fd);
            var st = StatFd(fd) ?? throw Changed(source.Path, Errno);
            if (!st.IsDirectory && !st.IsRegularFile)
                throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "MountSourceNotDirectory", $"The bind source '{source.Path}' is neither a directory nor a regular file.",
                    source.Path, "Bind a directory (or a plain file) of yours.");
            // What was opened is checked, not the path: a root-owned directory there is not the user's to hand a container.
            if (st.Uid == 0 && owner.Uid != 0)
                throw Deny("MountSourceNotYours", $"The bind source '{source.Path}' is owned by root, not by you.", source.Path);
            PrepareTarget(target, st.IsDirectory);
            return Attach(fd, target, source.ReadOnly, owner);
        }
        finally
        {
            Close(fd);
            Close(rootFd);
        }
    }

    private static Ds01Exception Deny(string id, string message, string path) => new(Ds01ErrorKind.PermissionDenied, id, message, path,
        "Bind a directory of your own under your allowed roots (Get-Ds01ResourceLimit), without links in its path.");

    private static Ds01Exception Changed(string path, int errno) => errno == ENoEnt
        ? new Ds01Exception(Ds01ErrorKind.NotFound, "MountSourceMissing", $"The bind source '{path}' does not exist.", path, "Create the directory first; ds01d does not create it for you.")
        : new Ds01Exception(Ds01ErrorKind.PermissionDenied, "MountPathChanged",
            $"The bind source '{path}' could not be opened without following links ({(errno == ELoop ? "a component is a symlink now" : errno == EXDev ? "it leads outside its allowed root" : "errno " + errno)}).",
            path, "Use a path without symlinks in it; a directory swapped for a link after the check is never mounted.");

    /// <summary>ROOT and every directory above it must be root's and not writable by others (sticky ones aside), so nobody else can swap a component.</summary>
    private void EnsureRoot()
    {
        var parts = Root.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "";
        for (var i = 0; i < parts.Length; i++)
        {
            current += "/" + parts[i];
            if (!Directory.Exists(current))
            {
                Directory.CreateDirectory(current);
                File.SetUnixFileMode(current, (UnixFileMode)Convert.ToInt32(i == parts.Length - 1 ? "711" : "755", 8));
            }
            var info = new DirectoryInfo(current);
            var st = StatPathNoFollow(current);
            if (info.LinkTarget is not null || st is null || !st.IsDirectory || st.Uid != 0 || ((st.Mode & 0b000_010_010) != 0 && (st.Mode & 0x200) == 0))
                throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "BindRootUnsafe", $"ds01d's bind directory '{Root}' has '{current}' above it, which is not a root-owned directory only root can change.",
                    Root, "Give ds01d a --binds directory under root-owned directories (the default /run/ds01/binds).");
        }
    }

    private static Stat? StatPathNoFollow(string path)
    {
        var fd = OpenPath(AtFdCwd, path, false, ResolveNoSymlinks | ResolveNoMagiclinks);
        if (fd < 0) return null;
        try { return StatFd(fd); }
        finally { Close(fd); }
    }

    private void PrepareTarget(string target, bool directory)
    {
        lock (_gate) EnsureRoot();
        var dir = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("711", 8));
        }
        if (IsMounted(target)) Unmount(target); // a stale mount of an earlier ds01d: this one replaces it
        if (directory) { if (File.Exists(target)) File.Delete(target); Directory.CreateDirectory(target); }
        else { if (Directory.Exists(target)) Directory.Delete(target); if (!File.Exists(target)) File.WriteAllBytes(target, Array.Empty<byte>()); }
    }

    private bool Attach(int fd, string target, bool readOnly, UserIdentity owner)
    {
        var tree = OpenTreeClone(fd);
        if (tree == -ENoSys)
        {
            // A kernel without the new mount API (before 5.2): bind the opened directory itself through its fd.
            Check(MountSyscalls.Mount($"/proc/self/fd/{fd}", target, MsBind), target);
            Check(MountSyscalls.Mount(null, target, MsBind | MsRemount | MsNosuid | MsNodev | (readOnly ? MsRdonly : 0)), target);
            Note(false, "the kernel has no open_tree/mount_setattr");
            return false;
        }
        if (tree < 0) Check(tree, target);
        try
        {
            var flags = MountAttrNosuid | MountAttrNodev | (readOnly ? MountAttrRdonly : 0);
            string? problem = null;
            var userns = UsernsFor(owner, ref problem);
            var idmapped = false;
            if (userns is not null)
            {
                var r = SetAttr(tree, flags | MountAttrIdmap, userns.DangerousGetHandle().ToInt32());
                if (r == 0) idmapped = true;
                else problem = $"mount_setattr(MOUNT_ATTR_IDMAP) failed with errno {-r}: the file system or kernel cannot idmap this mount";
            }
            if (!idmapped) Check(SetAttr(tree, flags, -1), target);
            Check(MoveMount(tree, target), target);
            Note(idmapped, problem);
            return idmapped;
        }
        finally
        {
            Close(tree);
        }
    }

    private void Note(bool idmapped, string? problem)
    {
        if (idmapped) { Interlocked.Increment(ref _idmapped); return; }
        Interlocked.Increment(ref _plain);
        if (problem != IdmapProblem) _warn($"bind mounts are nosuid,nodev but not idmapped: {problem}");
        IdmapProblem = problem;
    }

    private static void Check(int result, string target)
    {
        if (result < 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "BindMountFailed", $"ds01d could not mount the checked bind source at '{target}' (errno {-result}).", target,
                "Ask an admin to look at ds01d's log.");
    }

    /// <summary>
    /// A user namespace whose maps say: the owner's uid and gid are themselves, container root is 65534 on disk,
    /// every other id is unmapped (a root process inside cannot chown a file to anyone else). From a short-lived
    /// `unshare --user` child whose maps ds01d writes as root; the namespace lives on in the kept fd.
    /// </summary>
    private SafeFileHandle? UsernsFor(UserIdentity owner, ref string? problem)
    {
        if (owner.Uid is 0 or Unprivileged || owner.Gid is 0 or Unprivileged)
        {
            problem = $"uid/gid {owner.Uid}/{owner.Gid} cannot be mapped beside {Unprivileged}";
            return null;
        }
        lock (_gate)
        {
            if (_userns.TryGetValue((owner.Uid, owner.Gid), out var cached)) return cached;
            var unshare = new[] { "/usr/bin/unshare", "/bin/unshare" }.FirstOrDefault(File.Exists);
            var sleep = new[] { "/usr/bin/sleep", "/bin/sleep" }.FirstOrDefault(File.Exists);
            if (unshare is null || sleep is null) { problem = "util-linux unshare is not installed"; return null; }
            var psi = new ProcessStartInfo(unshare) { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "--user", "--", sleep, "30" }) psi.ArgumentList.Add(a);
            using var child = Process.Start(psi)!;
            try
            {
                var mine = new FileInfo("/proc/self/ns/user").LinkTarget;
                var ns = $"/proc/{child.Id}/ns/user";
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (new FileInfo(ns).LinkTarget == mine)
                {
                    if (child.HasExited || DateTime.UtcNow > deadline) { problem = "unshare --user did not make a user namespace"; return null; }
                    Thread.Sleep(5);
                }
                string Map(int id) => $"{id} {id} 1\n{Unprivileged} 0 1\n";
                File.WriteAllBytes($"/proc/{child.Id}/uid_map", Encoding.ASCII.GetBytes(Map(owner.Uid)));
                File.WriteAllBytes($"/proc/{child.Id}/gid_map", Encoding.ASCII.GetBytes(Map(owner.Gid)));
                var handle = File.OpenHandle(ns, FileMode.Open, FileAccess.Read);
                _userns[(owner.Uid, owner.Gid)] = handle;
                return handle;
            }
            catch (IOException e) { problem = $"writing the user namespace's maps failed: {e.Message}"; return null; }
            catch (UnauthorizedAccessException e) { problem = $"writing the user namespace's maps failed: {e.Message}"; return null; }
            finally
            {
                try { child.Kill(); child.WaitForExit(); } catch (InvalidOperationException) { }
            }
        }
    }

    public static bool IsMounted(string target)
    {
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4 && Unescape(fields[4]) == target) return true;
        }
        return false;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as \ooo.</summary>
    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length)
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static void Unmount(string target)
    {
        for (var i = 0; i < 16 && IsMounted(target); i++) MountSyscalls.Unmount(target);
    }

    /// <summary>Unmounts and removes one container's bind directory; never deletes through a mount that is still there.</summary>
    public void Remove(string dir)
    {
        if (Parse(Path.Combine(dir, "0")) is null || !Directory.Exists(dir)) return;
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            Unmount(entry);
            if (IsMounted(entry)) { _warn($"could not unmount {entry}; left in place"); continue; }
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: false);
            else File.Delete(entry);
        }
        try { Directory.Delete(dir, recursive: false); } catch (IOException) { }
    }

    /// <summary>Bind directories no container refers to (removed behind ds01d's back, a create that never reached dockerd), older than <paramref name="minAge"/>.</summary>
    public int Sweep(IReadOnlySet<string> referencedDirs, TimeSpan minAge)
    {
        if (!Directory.Exists(Root)) return 0;
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            if (referencedDirs.Contains(dir) || DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) < minAge) continue;
            Remove(dir);
            removed++;
        }
        return removed;
    }
}

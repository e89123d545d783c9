using System.Runtime.InteropServices;
using Ds01.Core.Configuration;
using Ds01.Core.Identity;

namespace Ds01.Core.Containers;

/// <summary>
/// Where a user's workspace and data mounts may come from. Paths are normalised and symlinks resolved before
/// the check, so '..' or a link cannot smuggle another user's directory into a container.
/// </summary>
public sealed class MountPolicy
{
    private readonly ResourceLimitsConfig _config;

    public MountPolicy(ResourceLimitsConfig config) => _config = config;

    public static string Expand(string template, UserIdentity user, string? project) => template
        .Replace("{home}", user.Home.TrimEnd('/'))
        .Replace("{user}", user.Name)
        .Replace("{uid}", user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Replace("{project}", project ?? "");

    public string DefaultWorkspace(UserIdentity user, string project) =>
        Path.GetFullPath(Expand(_config.WorkspaceRoot ?? ResourceLimitsConfig.DefaultWorkspaceRoot, user, project));

    public IReadOnlyList<string> AllowedRoots(UserIdentity user)
    {
        var templates = (_config.AllowedMountRoots.Count > 0 ? _config.AllowedMountRoots : new[] { "{home}" }).ToList();
        // The configured workspace root is always allowed (its part before {project}).
        var ws = _config.WorkspaceRoot ?? ResourceLimitsConfig.DefaultWorkspaceRoot;
        var cut = ws.IndexOf("{project}", StringComparison.Ordinal);
        var wsBase = (cut >= 0 ? ws.Substring(0, cut) : ws).TrimEnd('/');
        if (wsBase.Length > 0) templates.Add(wsBase);
        return templates.Select(t => ResolveRoot(t, user)).OfType<string>().Distinct().ToList();
    }

    /// <summary>
    /// A root's real path. Components up to the first one with a placeholder ({home}, {user}) are the admin's and
    /// are resolved; later ones lie in directories the user owns, so a symlink there (ln -s / ~/workspace) would
    /// make the user's choice the root: such a root is not used at all.
    /// </summary>
    internal static string? ResolveRoot(string template, UserIdentity user)
    {
        var segments = template.Split('/');
        var first = Array.FindIndex(segments, s => s.Contains('{'));
        if (first < 0) return Resolve(Path.GetFullPath(template));
        var trusted = Resolve(Path.GetFullPath(Expand(string.Join("/", segments.Take(first + 1)), user, null)));
        var current = trusted;
        foreach (var segment in segments.Skip(first + 1).Where(s => s.Length > 0))
        {
            var name = Expand(segment, user, null);
            if (name is "." or ".." || name.Contains('/')) return null;
            current = Path.Combine(current, name);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null) return null;
        }
        return current;
    }

    /// <summary>The real path of <paramref name="path"/>, which must lie under an allowed root.</summary>
    public string Check(string path, UserIdentity user, string what)
    {
        if (!Path.IsPathRooted(path))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "MountPathNotAbsolute", $"The {what} path '{path}' is not absolute.", path,
                "Give a full path, e.g. /home/you/workspace/project.");
        var real = Resolve(Path.GetFullPath(path));
        // ':' separates fields in Docker's -v syntax; such a path is refused here, not left to Docker's parser.
        if (path.Contains(':') || real.Contains(':') || path.Contains('\0'))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "MountPathHasColon",
                $"The {what} path '{path}' contains ':', which Docker reads as a field separator.", path,
                "Rename the directory without ':' and try again.");
        var roots = AllowedRoots(user);
        if (roots.Any(r => real == r || real.StartsWith(r.TrimEnd('/') + "/", StringComparison.Ordinal))) return real;
        throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "MountOutsideAllowedRoots",
            $"The {what} '{path}' is outside the directories you may mount ({string.Join(", ", roots)}).", path,
            "Use a directory under one of those, or ask an admin to add a root to allowed_mount_roots.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);
    [DllImport("libc")] private static extern void free(IntPtr p);

    /// <summary>realpath(3) of the deepest existing ancestor, with the missing tail appended.</summary>
    public static string Resolve(string full)
    {
        var tail = new Stack<string>();
        var current = full;
        while (true)
        {
            var p = realpath(current, IntPtr.Zero);
            if (p != IntPtr.Zero)
            {
                var real = Marshal.PtrToStringUTF8(p)!;
                free(p);
                return tail.Count == 0 ? real : Path.Combine(new[] { real }.Concat(tail).ToArray());
            }
            var parent = Path.GetDirectoryName(current);
            if (parent is null) return full;
            tail.Push(Path.GetFileName(current));
            current = parent;
        }
    }
}

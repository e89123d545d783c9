using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Identity;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>
/// A non-root caller's DS01_CONFIG_DIR/STATE_DIR/LOG_DIR/NVIDIA_SMI counts only where root owns the target and
/// the directories above it; an admin's writes into a user's tree never follow the user's links. Real accounts:
/// the files are given to nobody (65534) with chown, so the kernel's owners decide.
/// </summary>
public sealed class TrustedPathTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ds01-trust-").FullName;
    private static readonly UserIdentity Nobody = new OsIdentitySource().FindByUid(65534)!;

    public void Dispose() => Directory.Delete(_root, true);

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args)!;
        Assert.True(p.WaitForExit(10_000));
        Assert.Equal(0, p.ExitCode);
    }

    private string Dir(string name)
    {
        var d = Path.Combine(_root, name);
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void Only_root_owned_targets_under_root_owned_directories_are_trusted()
    {
        Assert.Equal(0, Posix.EffectiveUid); // ownership needs a real root to hand files to nobody
        var good = Dir("etc");
        Assert.Null(Ds01Paths.Untrusted(good, directory: true, sharedWrite: false, out var resolved));
        Assert.Equal(good, resolved);

        var users = Dir("mine");
        Run("chown", "65534:65534", users);
        Assert.Contains("uid 65534", Ds01Paths.Untrusted(users, true, false, out _));

        // Root's directory below a user's: the user can rename it away and put their own in its place.
        var inner = Path.Combine(users, "etc");
        Directory.CreateDirectory(inner);
        Assert.Contains($"'{users}' belongs to uid 65534", Ds01Paths.Untrusted(inner, true, false, out _));

        var open = Dir("open");
        File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777, not sticky
        Assert.Contains("writable by group or others", Ds01Paths.Untrusted(open, true, false, out _));
        File.SetUnixFileMode(open, (UnixFileMode)0x3FF); // 1777: a shared state dir is fine, a config dir is not
        Assert.Null(Ds01Paths.Untrusted(open, true, sharedWrite: true, out _));
        Assert.NotNull(Ds01Paths.Untrusted(open, true, sharedWrite: false, out _));

        // A link that a user made resolves to where it points, which is what gets checked.
        var link = Path.Combine(_root, "link");
        File.CreateSymbolicLink(link, users);
        Assert.Contains("uid 65534", Ds01Paths.Untrusted(link, true, false, out var real));
        Assert.Equal(users, real);

        var smi = Path.Combine(users, "nvidia-smi");
        File.WriteAllText(smi, "#!/bin/sh\n");
        Assert.NotNull(Ds01Paths.Untrusted(smi, directory: false, sharedWrite: false, out _));
        Assert.Equal("it is not an absolute path", Ds01Paths.Untrusted("etc", true, false, out _));
        Assert.Equal("it does not exist", Ds01Paths.Untrusted(Path.Combine(_root, "missing"), true, false, out _));
    }

    [Fact]
    public void An_admin_write_for_a_user_never_follows_their_directory_link_into_a_root_owned_place()
    {
        Assert.Equal(0, Posix.EffectiveUid);
        var home = Dir("home");
        Run("chown", "65534:65534", home);
        var protectedDir = Dir("root-only");
        // The user replaced ~/dockerfiles with a link to a directory only root may write.
        File.CreateSymbolicLink(Path.Combine(home, "dockerfiles"), protectedDir);
        var e = Assert.Throws<Ds01Exception>(() =>
            UserTree.WriteFile(Path.Combine(home, "dockerfiles", "p.Dockerfile"), "FROM busybox\n", Nobody, chown: true));
        Assert.Equal((Ds01ErrorKind.PermissionDenied, "UserPathIsSymlink"), (e.Kind, e.ErrorId));
        Assert.Empty(Directory.GetFileSystemEntries(protectedDir));

        // Deeper down too, and for directories made on the way (a workspace).
        Directory.CreateDirectory(Path.Combine(home, "workspace"));
        Run("chown", "65534:65534", Path.Combine(home, "workspace"));
        File.CreateSymbolicLink(Path.Combine(home, "workspace", "proj"), protectedDir);
        Assert.Throws<Ds01Exception>(() => UserTree.CreateDirectory(Path.Combine(home, "workspace", "proj", "sub"), Nobody, chown: true));
        Assert.Empty(Directory.GetFileSystemEntries(protectedDir));

        // Without links: directories made for the user belong to them, and so does the file.
        var file = Path.Combine(home, "real", "deeper", "p.Dockerfile");
        UserTree.WriteFile(file, "FROM busybox\n", Nobody, chown: true);
        Assert.Equal("FROM busybox\n", File.ReadAllText(file));
        Assert.Equal(65534, Posix.Stat(file)!.Value.Uid);
        Assert.Equal(65534, Posix.Stat(Path.Combine(home, "real"))!.Value.Uid);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!)); // no temp file left

        // A link root made (an admin's /home -> /data/home) is followed.
        var adminLink = Path.Combine(_root, "homes");
        File.CreateSymbolicLink(adminLink, home);
        UserTree.WriteFile(Path.Combine(adminLink, "real", "q.Dockerfile"), "x", Nobody, chown: true);
        Assert.True(File.Exists(Path.Combine(home, "real", "q.Dockerfile")));
    }
}

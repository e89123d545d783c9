using Ds01.Core;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Identity;
using Xunit;

namespace Ds01.Tests.Unit.Containers;

/// <summary>A user's own symlinks never widen what they may mount.</summary>
public class MountPolicyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ds01-mounts-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private (MountPolicy Policy, UserIdentity User) Setup(string yaml = "defaults: {}\n")
    {
        var home = Path.Combine(_root, "home", "alice");
        Directory.CreateDirectory(home);
        var user = new UserIdentity("alice", 4242, 4242, home, new[] { "alice" });
        return (new MountPolicy(ResourceLimitsConfig.Parse("r.yaml", yaml)), user);
    }

    [Fact]
    public void Paths_under_home_are_allowed_and_others_are_PermissionDenied()
    {
        var (policy, user) = Setup();
        var ok = Path.Combine(user.Home, "data");
        Assert.Equal(ok, policy.Check(ok, user, "data path"));
        var e = Assert.Throws<Ds01Exception>(() => policy.Check("/etc", user, "data path"));
        Assert.Equal((Ds01ErrorKind.PermissionDenied, "MountOutsideAllowedRoots"), (e.Kind, e.ErrorId));
        Assert.Throws<Ds01Exception>(() => policy.Check(Path.Combine(user.Home, "..", "bob"), user, "data path"));
    }

    [Fact]
    public void A_symlinked_workspace_root_is_not_a_root_at_all()
    {
        var (policy, user) = Setup();
        Directory.CreateSymbolicLink(Path.Combine(user.Home, "workspace"), "/");
        Assert.DoesNotContain("/", policy.AllowedRoots(user));
        var e = Assert.Throws<Ds01Exception>(() => policy.Check("/etc", user, "workspace"));
        Assert.Equal(Ds01ErrorKind.PermissionDenied, e.Kind);
        // And a path through the link resolves to where it really points: refused too.
        Assert.Throws<Ds01Exception>(() => policy.Check(Path.Combine(user.Home, "workspace", "etc"), user, "workspace"));
    }

    [Fact]
    public void A_symlink_inside_home_pointing_out_is_refused()
    {
        var (policy, user) = Setup();
        Directory.CreateSymbolicLink(Path.Combine(user.Home, "escape"), "/var");
        Assert.Throws<Ds01Exception>(() => policy.Check(Path.Combine(user.Home, "escape", "lib"), user, "data path"));
    }
}

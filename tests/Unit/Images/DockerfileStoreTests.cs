using Ds01.Core;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Unit.Images;

/// <summary>An admin saving or reading a user's Dockerfile never follows a symlink the user planted.</summary>
public class DockerfileStoreTests
{
    [Fact]
    public void Saving_over_a_planted_symlink_replaces_the_link_and_leaves_its_target_alone()
    {
        using var cfg = new TempConfig("defaults: {}\n");
        var session = new Ds01Session(new Ds01Paths(cfg.ConfigDir, cfg.StateDir, cfg.LogDir), new OsIdentitySource());
        var victim = Path.Combine(cfg.Root, "victim.txt");
        File.WriteAllText(victim, "precious");
        var dir = Path.Combine(cfg.Root, "dockerfiles");
        Directory.CreateDirectory(dir);
        var stored = Path.Combine(dir, "p.Dockerfile");
        File.CreateSymbolicLink(stored, victim);
        var nobody = new OsIdentitySource().FindByUid(65534)!;

        var e = Assert.Throws<Ds01Exception>(() => ImageService.ReadStoredDockerfile(stored));
        Assert.Equal((Ds01ErrorKind.PermissionDenied, "DockerfileIsSymlink"), (e.Kind, e.ErrorId));

        new ImageService(session, null!).SaveDockerfile(stored, "FROM busybox\n", nobody);
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Null(new FileInfo(stored).LinkTarget);
        Assert.Equal("FROM busybox\n", ImageService.ReadStoredDockerfile(stored));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }
}

using Ds01.Core;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>Fast path or AIME's legacy commit, over the in-memory engine.</summary>
public class UserSetupPathTests
{
    private static readonly UserIdentity Alice = new("alice", 4242, 4343, "/home/alice", new[] { "alice" });

    private static Dictionary<string, string> SetupLabels(int uid, int gid) => new()
    {
        [Labels.HasUserSetup] = "true", [Labels.ImageUserId] = uid.ToString(), [Labels.ImageGroupId] = gid.ToString(), [Labels.Project] = "p",
    };

    private static CreateSource Prepare(InMemoryEngine engine, string image) =>
        new UserSetupPath(engine).PrepareAsync(engine.InspectImageAsync(image, CancellationToken.None).GetAwaiter().GetResult()!, image,
            "c._.4242", Alice, CancellationToken.None).GetAwaiter().GetResult();

    [Fact]
    public void An_image_with_the_owners_user_built_in_is_used_as_it_is()
    {
        var engine = new InMemoryEngine();
        engine.AddImage("ds01-4242/p:latest", SetupLabels(4242, 4343));
        var source = Prepare(engine, "ds01-4242/p:latest");
        Assert.True(source.FastPath);
        Assert.Equal("ds01-4242/p:latest", source.Image);
        Assert.Null(source.LegacyImage);
        Assert.Empty(source.Warnings);
        Assert.DoesNotContain(engine.Calls, c => c.StartsWith("Commit", StringComparison.Ordinal));
    }

    [Fact]
    public void An_image_built_for_someone_else_warns_and_takes_the_legacy_commit()
    {
        var engine = new InMemoryEngine();
        engine.AddImage("ds01-1000/p:latest", SetupLabels(1000, 1000));
        var source = Prepare(engine, "ds01-1000/p:latest");
        Assert.False(source.FastPath);
        // Committed into the owner's own namespace, never into the builder's (ds01-<uid>/ images are private).
        Assert.Equal("ds01-4242/p:c._.4242", source.LegacyImage);
        Assert.Contains("built for UID/GID 1000:1000", Assert.Single(source.Warnings));
        var committed = engine.InspectImageAsync("ds01-4242/p:c._.4242", CancellationToken.None).GetAwaiter().GetResult()!;
        Assert.NotNull(committed.Config);
        Assert.NotNull(committed.Config.Labels);
        Assert.Equal("false", committed.Config.Labels[Labels.HasUserSetup]);
        Assert.Equal("4242", committed.Config.Labels[Labels.UserId]);
        // The temporary root container is gone.
        Assert.Empty(engine.Containers);
    }

    [Fact]
    public void A_failing_user_setup_is_UserSetupFailed_and_leaves_no_container_or_image()
    {
        var engine = new InMemoryEngine { WaitExitCode = 3 };
        engine.AddImage("plain:1");
        var e = Assert.Throws<Ds01Exception>(() => Prepare(engine, "plain:1"));
        Assert.Equal("UserSetupFailed", e.ErrorId);
        Assert.Empty(engine.Containers);
        Assert.Equal(new[] { "plain:1" }, engine.ImageReferences);
    }

    [Fact]
    public void An_image_referenced_by_id_is_committed_into_the_owners_legacy_repository()
    {
        var engine = new InMemoryEngine();
        var id = engine.AddImage("plain:2").ID;
        var source = Prepare(engine, id);
        Assert.Equal($"{ContainerNaming.LegacyRepository(4242)}:c._.4242", source.LegacyImage);
    }
}

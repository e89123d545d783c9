using System.Management.Automation;
using System.Text.Json;
using Ds01.Core.Containers;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>Project images on a real dockerd: a real build FROM busybox, both create paths, removal rules.</summary>
[Collection("engine")]
public class ImageTests
{
    private const string Busybox = DockerTestBed.BusyboxImage;

    // An account the host has and the busybox image lacks, so the legacy path really has to add it.
    private static readonly UserIdentity Games = new OsIdentitySource().FindByName("games")
        ?? throw new InvalidOperationException("the test host has no 'games' account (uid 5 on Debian)");

    private static List<string> EventTypes(DockerTestBed bed) =>
        File.Exists(bed.Config.EventLogFile)
            ? File.ReadAllLines(bed.Config.EventLogFile).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event_type").GetString()!).ToList()
            : [];

    [Fact]
    public void A_build_from_busybox_bakes_the_user_in_and_the_fast_path_creates_straight_from_it()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("img").ToLowerInvariant();
        var reference = $"ds01-{bed.Uid}/{project}:latest";

        var built = bed.Run($"Build-Ds01Image -Project {project} -BaseImage {Busybox} -Framework Busybox -FrameworkVersion 1.36 -Verbose 4>&1");
        Assert.Empty(built.Errors);
        var image = Assert.Single(built.Objects<Ds01Image>());
        Assert.Equal(reference, image.Name);
        Assert.True(image.HasUserSetup);
        Assert.Equal(bed.Uid, image.UserId);
        Assert.Equal(project, image.Project);
        Assert.Equal(Busybox, image.BaseImage);
        Assert.Equal("Busybox-1.36", image.Framework);
        Assert.False(image.IsLegacyCommit);
        // The build log streams as verbose lines, one per Dockerfile step at least.
        Assert.Contains(built.Objects<VerboseRecord>(), v => v.Message.StartsWith("Step 1/", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(bed.Dockerfiles, project + ".Dockerfile")), "the Dockerfile is kept for Update-Ds01Image");

        // The labels are read back from the engine, not from our own output object.
        var labels = bed.Engine.InspectImageAsync(reference, CancellationToken.None).GetAwaiter().GetResult()!.Config!.Labels!;
        var me = new OsIdentitySource().Current();
        Assert.Equal("true", labels["aime.mlc.DS01_HAS_USER_SETUP"]);
        Assert.Equal(me.Uid.ToString(), labels["aime.mlc.DS01_USER_ID"]);
        Assert.Equal(me.Gid.ToString(), labels["aime.mlc.DS01_GROUP_ID"]);
        Assert.Equal(me.SanitizedName, labels["aime.mlc.DS01_USERNAME"]);

        var name = bed.Name("fast");
        var created = bed.Run($"New-Ds01Container {name} -Project {project} -GpuCount 0 -PassThru -Verbose 4>&1");
        Assert.Empty(created.Errors);
        Assert.Empty(created.Warnings);
        Assert.Contains(created.Objects<VerboseRecord>(), v => v.Message.StartsWith("Fast path", StringComparison.Ordinal));
        Assert.Equal(reference, bed.Inspect(bed.Tag("fast"))!.Config!.Image);
        Assert.DoesNotContain(bed.Run("Get-Ds01Image").Objects<Ds01Image>(), i => i.IsLegacyCommit && i.Name.Contains(bed.RunId));

        var listed = Assert.Single(bed.Run($"Get-Ds01Image -Project {project}").Objects<Ds01Image>());
        Assert.Equal(bed.Name("fast"), listed.InUseBy);

        // In use: refused even with -Force, which only skips the prompt.
        var refused = bed.Run($"Remove-Ds01Image -Project {project} -Force");
        Assert.Equal("ImageInUse", refused.SingleError().FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(System.Management.Automation.ErrorCategory.ResourceBusy, refused.SingleError().CategoryInfo.Category);
        Assert.NotNull(bed.Engine.InspectImageAsync(reference, CancellationToken.None).GetAwaiter().GetResult());

        Assert.Empty(bed.Run($"Remove-Ds01Container {name} -Force").Errors);
        var removed = bed.Run($"Get-Ds01Image -Project {project} | Remove-Ds01Image -Force");
        Assert.Empty(removed.Errors);
        Assert.Null(bed.Engine.InspectImageAsync(reference, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(["image.build", "container.create", "container.remove", "image.delete"], EventTypes(bed));
    }

    [Fact]
    public void A_plain_image_takes_the_legacy_path_with_the_user_really_added()
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("legacy");
        var tag = $"{name}._.{Games.Uid}";
        var committed = $"ds01-test/busybox:{tag}";

        var created = bed.Run($"New-Ds01Container {name} -Image {Busybox} -GpuCount 0 -User games -Verbose 4>&1");
        Assert.Empty(created.Errors);
        Assert.Contains(created.Objects<VerboseRecord>(), v => v.Message.StartsWith("Legacy path", StringComparison.Ordinal));
        var c = bed.Engine.InspectContainerAsync(tag, CancellationToken.None).GetAwaiter().GetResult()!;
        Assert.Equal(committed, c.Config!.Image);
        Assert.Equal($"{Games.Uid}:{Games.Gid}", c.Config.User);
        // The temporary setup container is gone.
        Assert.DoesNotContain(bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult(),
            x => x.Names.Any(n => n.StartsWith("/ds01-setup-" + tag, StringComparison.Ordinal)));

        var image = Assert.Single(bed.Run("Get-Ds01Image -User games").Objects<Ds01Image>(), i => i.Name == committed);
        Assert.True(image.IsLegacyCommit);
        Assert.False(image.HasUserSetup);
        Assert.Equal(Games.Uid, image.Uid);
        Assert.Equal(name, image.InUseBy);
        // The committed image keeps busybox's own command, not the setup script.
        var config = bed.Engine.InspectImageAsync(committed, CancellationToken.None).GetAwaiter().GetResult()!.Config!;
        Assert.Equal(["/bin/sh"], config.Cmd);
        Assert.Equal("true", config.Labels!["ds01.legacy_commit"]);

        Assert.Empty(bed.Run($"Start-Ds01Container {name} -User games").Errors);
        var id = bed.Run($"Invoke-Ds01ContainerCommand {name} -User games -Command id");
        Assert.Empty(id.Errors);
        Assert.StartsWith($"uid={Games.Uid}(games) gid={Games.Gid}(games)", Assert.Single(id.Objects<string>()));

        // Removing the container removes its committed image too.
        Assert.Empty(bed.Run($"Remove-Ds01Container {name} -User games -Stop -Force").Errors);
        Assert.Null(bed.Engine.InspectImageAsync(committed, CancellationToken.None).GetAwaiter().GetResult());
    }

    [Fact]
    public void An_image_built_for_another_uid_warns_and_falls_back_to_the_legacy_path()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("mis").ToLowerInvariant();
        Assert.Empty(bed.Run($"Build-Ds01Image -Project {project} -BaseImage {Busybox}").Errors);
        var mine = $"ds01-{bed.Uid}/{project}:latest";

        var name = bed.Name("mis");
        var created = bed.Run($"New-Ds01Container {name} -Image {mine} -GpuCount 0 -User games -PassThru");
        Assert.Empty(created.Errors);
        var warning = Assert.Single(created.Warnings);
        Assert.Contains($"built for UID/GID {bed.Uid}:", warning);
        Assert.Contains($"Build-Ds01Image -Project {project} -Force", warning);
        var c = bed.Engine.InspectContainerAsync($"{name}._.{Games.Uid}", CancellationToken.None).GetAwaiter().GetResult()!;
        // Committed into the owner's namespace, never into the builder's (ds01-<uid>/ images are private).
        Assert.Equal($"ds01-{Games.Uid}/{project}:{name}._.{Games.Uid}", c.Config!.Image);

        // The commit no longer claims the builder's user setup.
        var labels = bed.Engine.InspectImageAsync(c.Config!.Image, CancellationToken.None).GetAwaiter().GetResult()!.Config!.Labels!;
        Assert.Equal("false", labels["aime.mlc.DS01_HAS_USER_SETUP"]);
        Assert.Equal("true", labels["ds01.legacy_commit"]);
    }

    [Fact]
    public void A_failed_build_names_the_failing_step()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("fail").ToLowerInvariant();
        // busybox has no pip, so the extra-packages RUN fails.
        var r = bed.Run($"Build-Ds01Image -Project {project} -BaseImage {Busybox} -Package wandb");
        var error = r.SingleError();
        Assert.Equal("ImageBuildFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Matches(@"at Step \d+/\d+ : RUN pip install --no-cache-dir 'wandb'", error.Exception.Message);
        Assert.Null(bed.Engine.InspectImageAsync($"ds01-{bed.Uid}/{project}:latest", CancellationToken.None).GetAwaiter().GetResult());
        Assert.DoesNotContain("image.build", EventTypes(bed));
    }

    [Fact]
    public void Build_refuses_an_existing_image_without_Force_and_Update_warns_about_containers_on_the_old_one()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("upd").ToLowerInvariant();
        Assert.Empty(bed.Run($"Build-Ds01Image -Project {project} -BaseImage {Busybox}").Errors);
        Assert.Equal("ImageExists", bed.Run($"Build-Ds01Image -Project {project}").SingleError().FullyQualifiedErrorId.Split(',')[0]);

        var name = bed.Name("upd");
        Assert.Empty(bed.Run($"New-Ds01Container {name} -Project {project} -GpuCount 0").Errors);
        Assert.Equal("NothingToUpdate", bed.Run($"Update-Ds01Image {project}").SingleError().FullyQualifiedErrorId.Split(',')[0]);

        // -NoCache gives a new image id, so the container is now on the old one.
        var updated = bed.Run($"Update-Ds01Image {project} -Rebuild -NoCache");
        Assert.Empty(updated.Errors);
        Assert.Contains(updated.Warnings, w => w.Contains(bed.Name("upd")) && !w.Contains("._.") && w.Contains("old image"));
        Assert.Equal("", Assert.Single(updated.Objects<Ds01Image>()).InUseBy);
        Assert.Equal(["image.build", "container.create", "image.update"], EventTypes(bed));
    }

    [Fact]
    public void A_user_cannot_remove_a_base_image_or_another_users_image_name_by_typo()
    {
        using var bed = new DockerTestBed();
        var r = bed.Run($"Remove-Ds01Image {Busybox} -Force");
        Assert.Equal("NotADs01Image", r.SingleError().FullyQualifiedErrorId.Split(',')[0]);
        Assert.NotNull(bed.Engine.InspectImageAsync(Busybox, CancellationToken.None).GetAwaiter().GetResult());
    }

    [Fact]
    public void New_Ds01Dockerfile_emits_text_for_another_users_ids_and_writes_OutFile()
    {
        using var bed = new DockerTestBed();
        var file = Path.Combine(bed.Config.Root, "out.Dockerfile");
        var r = bed.Run($"New-Ds01Dockerfile demo -BaseImage {Busybox} -UseCase nlp -Jupyter -User games -OutFile '{file}'");
        Assert.Empty(r.Errors);
        var text = Assert.Single(r.Objects<string>());
        Assert.Contains($"FROM {Busybox}", text);
        Assert.Contains($"uid={Games.Uid}; gid={Games.Gid}; name=games", text);
        Assert.Contains($"USER {Games.Uid}:{Games.Gid}", text);
        Assert.Contains("'transformers'", text);
        Assert.Equal(text, File.ReadAllText(file));
        Assert.False(Directory.Exists(bed.Dockerfiles), "generating only does not save into the dockerfiles dir");
    }
}

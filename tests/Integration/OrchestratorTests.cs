using System.Management.Automation;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>Deploy-Ds01Container and retire (Remove-Ds01Container -Stop -SaveImage) against the real dockerd.</summary>
[Collection("engine")]
public class OrchestratorTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    [Fact]
    public void Deploy_creates_and_starts_and_writes_the_running_container()
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("dep");

        var r = bed.Run($"Deploy-Ds01Container {name} -Image {Img} -GpuCount 0");

        Assert.Empty(r.Errors);
        var c = Assert.Single(r.Objects<Core.Containers.Ds01Container>());
        Assert.Equal(Core.Containers.ContainerState.Running, c.State);
        Assert.True(bed.Inspect(bed.Tag("dep"))!.State!.Running);
        Assert.Equal("orchestration", bed.Inspect(bed.Tag("dep"))!.Config!.Labels["ds01.interface"]);
    }

    [Fact]
    public void Deploy_Open_without_a_terminal_is_refused_before_anything_is_created()
    {
        using var bed = new DockerTestBed();

        // The test host's stdin and stdout are redirected, as in any script.
        var r = bed.Run($"Deploy-Ds01Container {bed.Name("open")} -Image {Img} -GpuCount 0 -Open");

        var e = r.SingleError();
        Assert.Equal("TerminalRequired,Ds01.PowerShell.Cmdlets.DeployDs01ContainerCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, e.CategoryInfo.Category);
        Assert.Null(bed.Inspect(bed.Tag("open")));
    }

    [Fact]
    public void Deploy_WhatIf_creates_nothing()
    {
        using var bed = new DockerTestBed();

        var r = bed.Run($"Deploy-Ds01Container {bed.Name("wi")} -Image {Img} -GpuCount 0 -WhatIf");

        Assert.Empty(r.Errors);
        Assert.Null(bed.Inspect(bed.Tag("wi")));
    }

    [Fact]
    public void Retire_with_SaveImage_stops_commits_into_the_owners_namespace_and_removes()
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("ret");
        var snap = bed.Name("snap");
        Assert.Empty(bed.Run($"Deploy-Ds01Container {name} -Image {Img} -GpuCount 0").Errors);
        // Something installed in the container that the saved image must keep.
        Assert.Empty(bed.Run($"Invoke-Ds01ContainerCommand {name} -Command touch,/tmp/kept-by-retire").Errors);

        var r = bed.Run($"Remove-Ds01Container {name} -Stop -SaveImage {snap} -Force");

        Assert.Empty(r.Errors);
        Assert.Null(bed.Inspect(bed.Tag("ret")));
        var saved = $"ds01-{bed.Uid}/{snap}:latest";
        var image = bed.Engine.InspectImageAsync(saved, CancellationToken.None).GetAwaiter().GetResult();
        Assert.NotNull(image);
        // Owner, GPU and mount labels of the old container do not travel into new containers made from the image.
        var labels = image!.Config!.Labels!;
        Assert.Equal("", labels["ds01.user"]);
        Assert.Equal("", labels["ds01.name"]);
        Assert.Equal("", labels["ds01.work_mount"]);
        Assert.True(!labels.TryGetValue("ds01.gpu.slots", out var slots) || slots == "", "ds01.gpu.slots on the saved image");
        Assert.Equal(snap, labels["ds01.project"]);
        Assert.Contains("\"image.save\"", File.ReadAllText(bed.Config.EventLogFile));

        // A container deployed from the saved image has the file and is the caller's.
        var next = bed.Name("next");
        Assert.Empty(bed.Run($"Deploy-Ds01Container {next} -Image {saved} -GpuCount 0").Errors);
        var ls = bed.Run($"Invoke-Ds01ContainerCommand {next} -Command ls,/tmp/kept-by-retire");
        Assert.Empty(ls.Errors);
        Assert.Contains("/tmp/kept-by-retire", ls.Output.Select(o => o.ToString()));
        Assert.Equal(bed.Uid.ToString(), bed.Inspect(bed.Tag("next"))!.Config!.Labels["ds01.user_id"]);
    }

    [Theory]
    [InlineData("Bad Name", "InvalidSaveImage")]
    [InlineData("ds01-999999/stolen", "SaveImageNotYours")]
    public void A_bad_SaveImage_name_changes_nothing(string image, string errorId)
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("keep");
        Assert.Empty(bed.Run($"Deploy-Ds01Container {name} -Image {Img} -GpuCount 0").Errors);

        var r = bed.Run($"Remove-Ds01Container {name} -Stop -SaveImage '{image}' -Force");

        var e = r.SingleError();
        Assert.StartsWith(errorId + ",", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.NotNull(e.ErrorDetails?.RecommendedAction);
        Assert.True(bed.Inspect(bed.Tag("keep"))!.State!.Running);
    }

    [Fact]
    public void Seed_container_retire_save_image_saves_and_removes()
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("sret");
        var snap = bed.Name("ssnap");
        var deploy = Ds01Cli.RunWith(bed.Env, null, "container-deploy", name, $"--image={Img}", "--gpu=0");
        Assert.True(deploy.ExitCode == 0, deploy.Err);

        var retire = Ds01Cli.RunWith(bed.Env, null, "container-retire", name, $"--save-image={snap}", "--force");

        Assert.True(retire.ExitCode == 0, retire.Err);
        Assert.Null(bed.Inspect(bed.Tag("sret")));
        Assert.NotNull(bed.Engine.InspectImageAsync($"ds01-{bed.Uid}/{snap}:latest", CancellationToken.None).GetAwaiter().GetResult());
    }
}

using Ds01.Core.Containers;
using Ds01.Core.Projects;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>project-init and project-launch against the real dockerd: -WhatIf changes nothing, a second run changes nothing.</summary>
[Collection("engine")]
public class ProjectWizardTests
{
    private const string Busybox = DockerTestBed.BusyboxImage;

    private static string Snapshot(DockerTestBed bed) =>
        string.Join("\n", Directory.EnumerateFileSystemEntries(bed.Config.Root, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(bed.Config.LogDir, StringComparison.Ordinal)).Order());

    [Fact]
    public void WhatIf_changes_nothing_then_init_creates_and_a_second_run_changes_nothing()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("proj");
        var before = Snapshot(bed);

        var whatIf = bed.Run($"Initialize-Ds01Project {project} -BaseImage {Busybox} -Build -WhatIf");

        Assert.Empty(whatIf.Errors);
        Assert.Equal(before, Snapshot(bed));
        Assert.Null(bed.Engine.InspectImageAsync($"ds01-{bed.Uid}/{project}:latest", CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal("", Assert.Single(whatIf.Objects<Ds01Project>()).Changed);

        var first = bed.Run($"Initialize-Ds01Project {project} -BaseImage {Busybox} -Build");

        Assert.Empty(first.Errors);
        var made = Assert.Single(first.Objects<Ds01Project>());
        Assert.Equal("workspace, Dockerfile, image", made.Changed);
        Assert.True(made.ImageExists);
        Assert.True(Directory.Exists(Path.Combine(bed.Workspaces, project)));
        Assert.Equal(made.Dockerfile, Path.Combine(bed.Dockerfiles, project + ".Dockerfile"));
        Assert.StartsWith("FROM " + Busybox, File.ReadAllText(made.Dockerfile).Split('\n').First(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        var afterFirst = Snapshot(bed);
        var dockerfile = File.ReadAllText(made.Dockerfile);

        // The second run, even with another framework, leaves the user's Dockerfile alone and says so.
        var second = bed.Run($"Initialize-Ds01Project {project} -BaseImage {Busybox} -Package wandb -Build");

        Assert.Empty(second.Errors);
        Assert.Equal("", Assert.Single(second.Objects<Ds01Project>()).Changed);
        Assert.Equal(afterFirst, Snapshot(bed));
        Assert.Equal(dockerfile, File.ReadAllText(made.Dockerfile));
        Assert.Contains(bed.Run($"Initialize-Ds01Project {project} -BaseImage {Busybox} 6>&1").Output.Select(o => o.ToString()),
            line => line.Contains("nothing was changed", StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_project_name_changes_nothing()
    {
        using var bed = new DockerTestBed();
        var before = Snapshot(bed);

        var r = bed.Run($"Initialize-Ds01Project 'Bad Name' -BaseImage {Busybox}");

        Assert.Equal("InvalidProjectName", r.SingleError().FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(before, Snapshot(bed));
    }

    [Fact]
    public void Launch_builds_the_missing_image_deploys_and_a_second_launch_reuses_the_container()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("launch");
        Assert.Empty(bed.Run($"Initialize-Ds01Project {project} -BaseImage {Busybox}").Errors);
        Assert.Null(bed.Engine.InspectImageAsync($"ds01-{bed.Uid}/{project}:latest", CancellationToken.None).GetAwaiter().GetResult());

        var r = bed.Run($"Start-Ds01Project {project} -GpuCount 0");

        Assert.Empty(r.Errors);
        var c = Assert.Single(r.Objects<Ds01Container>());
        Assert.Equal(ContainerState.Running, c.State);
        Assert.Equal($"ds01-{bed.Uid}/{project}:latest", bed.Inspect(bed.Tag("launch"))!.Config!.Image);

        Assert.Empty(bed.Run($"Stop-Ds01Container {project} -TimeoutSec 1").Errors);
        var again = bed.Run($"Start-Ds01Project {project} -GpuCount 0");
        Assert.Empty(again.Errors);
        Assert.Equal(c.Id, Assert.Single(again.Objects<Ds01Container>()).Id);
        Assert.True(bed.Inspect(bed.Tag("launch"))!.State!.Running);
    }

    [Fact]
    public void Launch_of_a_project_without_a_Dockerfile_says_how_to_set_it_up()
    {
        using var bed = new DockerTestBed();

        var e = bed.Run($"Start-Ds01Project {bed.Name("none")} -GpuCount 0").SingleError();

        Assert.Equal("ProjectNotInitialized", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("Initialize-Ds01Project", e.ErrorDetails.RecommendedAction);
        Assert.Null(bed.Inspect(bed.Tag("none")));
    }

    [Fact]
    public void Seed_project_init_and_launch_make_what_the_cmdlets_make()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("sproj");

        var init = Ds01Cli.RunWith(bed.Env, null, "project-init", project, $"--base-image={Busybox}");
        Assert.True(init.ExitCode == 0, init.Err);
        Assert.True(File.Exists(Path.Combine(bed.Dockerfiles, project + ".Dockerfile")));
        var launch = Ds01Cli.RunWith(bed.Env, null, "project-launch", project, "--gpu=0");
        Assert.True(launch.ExitCode == 0, launch.Err);
        Assert.True(bed.Inspect(bed.Tag("sproj"))!.State!.Running);
    }
}

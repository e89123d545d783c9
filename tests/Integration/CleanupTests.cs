using Ds01.Core.Containers;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>container-cleanup against the real dockerd: stopped containers only, sizes, confirmation, the summary.</summary>
[Collection("engine")]
public class CleanupTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    [Fact]
    public void Force_removes_only_the_stopped_containers_and_reports_the_space_freed()
    {
        using var bed = new DockerTestBed();
        var running = bed.Name("krun");
        var stopped = bed.Name("kstop");
        Assert.Empty(bed.Run($"Deploy-Ds01Container {running} -Image {Img} -GpuCount 0").Errors);
        Assert.Empty(bed.Run($"Deploy-Ds01Container {stopped} -Image {Img} -GpuCount 0").Errors);
        // One MiB written inside the container (outside the workspace) is what the cleanup gives back.
        // dd reports its record counts on stderr (error records here); the size check below shows the file was written.
        bed.Run($"Invoke-Ds01ContainerCommand {stopped} -Command dd,if=/dev/zero,of=/tmp/fill,bs=1024,count=1024");
        Assert.Empty(bed.Run($"Stop-Ds01Container {stopped} -TimeoutSec 1").Errors);

        var whatIf = bed.Run("Clear-Ds01Container -WhatIf");
        Assert.Empty(whatIf.Errors);
        Assert.NotNull(bed.Inspect(bed.Tag("kstop")));

        var r = bed.Run("Clear-Ds01Container -Force 6>&1");

        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Objects<Ds01CleanupResult>());
        Assert.Contains(stopped, result.Removed.Split(", "));
        Assert.DoesNotContain(running, result.Removed.Split(", "));
        Assert.True(result.BytesReclaimed >= 1024 * 1024, $"reclaimed {result.BytesReclaimed}");
        Assert.Null(bed.Inspect(bed.Tag("kstop")));
        Assert.True(bed.Inspect(bed.Tag("krun"))!.State!.Running);
        // The listing with sizes came before the removal.
        Assert.Contains(r.Output.Select(o => o.ToString()), l => l!.Contains(stopped) && l.Contains("MiB"));
    }

    [Fact]
    public void Seed_container_cleanup_all_removes_the_stopped_ones()
    {
        using var bed = new DockerTestBed();
        var stopped = bed.Name("sstop");
        Assert.Empty(bed.Run($"New-Ds01Container {stopped} -Image {Img} -GpuCount 0; Start-Ds01Container {stopped}; Stop-Ds01Container {stopped} -TimeoutSec 1").Errors);

        var r = Ds01Cli.RunWith(bed.Env, null, "container-cleanup", "--all");

        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Null(bed.Inspect(bed.Tag("sstop")));
    }
}

using Ds01.Core.Containers;
using Ds01.Core.Guidance;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>Name pickers and a guided flow through a scripted host in the real engine, against the real dockerd.</summary>
[Collection("engine")]
public class PickerTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    [Fact]
    public void Stop_offers_only_running_containers_and_stops_the_one_chosen()
    {
        using var bed = new DockerTestBed();
        string up = bed.Name("up"), down = bed.Name("down");
        Assert.Empty(bed.Run($"New-Ds01Container {up} -Image {Img} -GpuCount 0; New-Ds01Container {down} -Image {Img} -GpuCount 0; Start-Ds01Container {up}").Errors);

        var host = new ScriptedHost(up);
        var r = host.Run("Stop-Ds01Container -TimeoutSec 1", bed.Env);
        Assert.Empty(r.Errors);
        var (caption, _, labels) = Assert.Single(host.Script.Choices);
        Assert.Contains(up, labels);
        Assert.DoesNotContain(down, labels);
        Assert.Equal(GuidedFlows.PickCaption(GuidedFlows.PickStates("Stop-Ds01Container")), caption);
        Assert.Equal("exited", bed.Inspect(bed.Tag("up"))!.State!.Status);
    }

    [Fact]
    public void Guided_start_explains_picks_from_stopped_containers_and_starts_after_yes()
    {
        using var bed = new DockerTestBed();
        string c = bed.Name("gstart"), running = bed.Name("grun");
        Assert.Empty(bed.Run($"New-Ds01Container {c} -Image {Img} -GpuCount 0; New-Ds01Container {running} -Image {Img} -GpuCount 0; Start-Ds01Container {running}").Errors);

        var host = new ScriptedHost(c, "Yes");
        var r = host.Run("Start-Ds01Container -Guided", bed.Env);
        Assert.Empty(r.Errors);
        var flow = GuidedFlows.Find("Start-Ds01Container")!;
        foreach (var step in flow.Steps) Assert.Contains(step.Explanation, host.Script.Transcript);
        Assert.Equal(2, host.Script.Choices.Count);
        Assert.Contains(c, host.Script.Choices[0].Labels);
        Assert.DoesNotContain(running, host.Script.Choices[0].Labels);
        Assert.Equal(GuidedFlow.Confirm, host.Script.Choices[1].Message);
        Assert.True(bed.Inspect(bed.Tag("gstart"))!.State!.Running);
    }

    [Fact]
    public void A_picker_with_nothing_to_offer_is_NoContainerToChoose()
    {
        using var bed = new DockerTestBed();
        var host = new ScriptedHost();
        var r = host.Run($"Get-Ds01Container | Where-Object State -eq Running | Out-Null; Resume-Ds01Container", bed.Env);
        Assert.Equal("NoContainerToChoose", r.SingleError().FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(host.Script.Choices);
    }
}

/// <summary>Long work shows progress: waiting in the GPU queue, through a scripted host's Write-Progress.</summary>
[Collection("engine")]
public class ProgressTests
{
    [Fact]
    public void Waiting_in_the_GPU_queue_is_shown_as_progress_until_it_ends()
    {
        using var bed = new DockerTestBed(simulatedGpus: 1, extraDefaults: "gpu_limit: unlimited");
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("holder")} -Image {DockerTestBed.BusyboxImage}").Errors);

        var host = new ScriptedHost();
        var r = host.Run($"New-Ds01Container {bed.Name("waiter")} -Image {DockerTestBed.BusyboxImage} -Wait -TimeoutSec 3", bed.Env);
        Assert.Equal("GpuWaitTimeout", r.SingleError().FullyQualifiedErrorId.Split(',')[0]);
        var waiting = host.Script.Progress.Where(p => p.Activity == "Waiting in the GPU queue").ToList();
        Assert.NotEmpty(waiting);
        Assert.Contains(bed.Tag("holder"), waiting[0].Status);
        Assert.Equal(System.Management.Automation.ProgressRecordType.Completed, host.Script.Progress[^1].Type);
    }
}

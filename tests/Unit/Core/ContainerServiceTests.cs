using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>Lifecycle, listing and shell logic of ContainerService over the in-memory engine.</summary>
public class ContainerServiceTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public void Start_refuses_a_workspace_swapped_for_a_symlink_after_create_and_leaves_the_container_stopped()
    {
        using var bed = new CoreBed();
        var id = bed.Create("swap").Id;
        var ws = Path.Combine(bed.Workspaces, "swap");
        Directory.Delete(ws);
        Directory.CreateSymbolicLink(ws, "/etc");

        var e = Assert.Throws<Ds01Exception>(() => bed.Containers.StartAsync("swap", bed.Me, None).GetAwaiter().GetResult());

        Assert.Equal(Ds01ErrorKind.PermissionDenied, e.Kind);
        Assert.False(Assert.Single(bed.Engine.Containers).State?.Running);
        Assert.DoesNotContain("Start " + id, bed.Engine.Calls);
        Assert.DoesNotContain("container.start", bed.EventTypes());
    }

    [Fact]
    public void Start_and_stop_are_recorded_and_a_stopped_gpu_container_shows_its_exact_stop_time_and_hold()
    {
        using var bed = new CoreBed(defaults: "gpu_hold_after_stop_minutes: 20", gpus: 1);
        bed.Create("held", gpus: 1);
        Assert.Equal(ContainerState.Running, bed.Containers.StartAsync("held", bed.Me, None).GetAwaiter().GetResult().State);
        bed.Clock.Advance(TimeSpan.FromMinutes(3));
        var stoppedAt = bed.Clock.GetUtcNow();
        var stopped = bed.Containers.StopAsync("held", bed.Me, 10, kill: false, None).GetAwaiter().GetResult();
        Assert.Equal(stoppedAt, stopped.StoppedAt);
        Assert.Equal(stoppedAt.AddMinutes(20), stopped.GpuHoldExpiresAt);

        // Listed 47 minutes later: Docker's text says "About an hour ago"; the listing still shows the exact times.
        bed.Clock.Advance(TimeSpan.FromMinutes(47));
        var listed = Assert.Single(bed.Containers.ListAsync(bed.Me, None).GetAwaiter().GetResult());
        Assert.Equal(stoppedAt, listed.StoppedAt);
        Assert.Equal(stoppedAt.AddMinutes(20), listed.GpuHoldExpiresAt);
        Assert.Equal(new[] { "gpu.allocate", "container.create", "container.start", "container.stop" }, bed.EventTypes());
    }

    [Fact]
    public void A_listed_stopped_container_without_gpu_shows_no_stop_time_rather_than_a_guessed_one()
    {
        using var bed = new CoreBed();
        bed.Create("plain");
        bed.Containers.StartAsync("plain", bed.Me, None).GetAwaiter().GetResult();
        bed.Containers.StopAsync("plain", bed.Me, 10, kill: true, None).GetAwaiter().GetResult();
        bed.Clock.Advance(TimeSpan.FromMinutes(90));
        var listed = Assert.Single(bed.Containers.ListAsync(bed.Me, None).GetAwaiter().GetResult());
        Assert.Equal(ContainerState.Stopped, listed.State);
        Assert.Null(listed.StoppedAt);
        Assert.StartsWith("Exited (137) 2 hours ago", listed.Status);
    }

    [Fact]
    public void A_stop_interrupted_by_ctrl_c_is_still_recorded()
    {
        using var bed = new CoreBed();
        bed.Create("busy");
        bed.Containers.StartAsync("busy", bed.Me, None).GetAwaiter().GetResult();
        using var cts = new CancellationTokenSource();
        // Ctrl+C while the stop request is with dockerd (the in-memory engine gives up its wait on a cancelled token).
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => bed.Containers.StopAsync("busy", bed.Me, 10, kill: false, cts.Token).GetAwaiter().GetResult());
        var stop = Assert.Single(bed.Events(), e => e.GetProperty("event_type").GetString() == "container.stop");
        Assert.True(stop.GetProperty("details").GetProperty("interrupted").GetBoolean());
        Assert.Equal("stop", stop.GetProperty("details").GetProperty("method").GetString());
    }

    [Fact]
    public void Remove_refuses_a_running_container_without_Stop_and_removes_it_with()
    {
        using var bed = new CoreBed();
        bed.Create("run");
        bed.Containers.StartAsync("run", bed.Me, None).GetAwaiter().GetResult();
        var e = Assert.Throws<Ds01Exception>(() => bed.Containers.RemoveAsync("run", bed.Me, stopFirst: false, None).GetAwaiter().GetResult());
        Assert.Equal("ContainerRunning", e.ErrorId);
        Assert.Single(bed.Engine.Containers);

        bed.Containers.RemoveAsync("run", bed.Me, stopFirst: true, None).GetAwaiter().GetResult();
        Assert.Empty(bed.Engine.Containers);
        // The legacy commit made for this container goes with it.
        Assert.DoesNotContain(bed.Engine.ImageReferences, r => r.EndsWith($":run._.{bed.Me.Uid}", StringComparison.Ordinal));
        Assert.Equal(new[] { "container.create", "container.start", "container.stop", "container.remove" }, bed.EventTypes());
    }

    [Fact]
    public void Pause_and_resume_check_the_state_first()
    {
        using var bed = new CoreBed();
        bed.Create("p");
        Assert.Equal("ContainerNotRunning", Assert.Throws<Ds01Exception>(() => bed.Containers.PauseAsync("p", bed.Me, None).GetAwaiter().GetResult()).ErrorId);
        bed.Containers.StartAsync("p", bed.Me, None).GetAwaiter().GetResult();
        Assert.Equal(ContainerState.Paused, bed.Containers.PauseAsync("p", bed.Me, None).GetAwaiter().GetResult().State);
        Assert.Equal("ContainerPaused", Assert.Throws<Ds01Exception>(() => bed.Containers.StartAsync("p", bed.Me, None).GetAwaiter().GetResult()).ErrorId);
        Assert.Equal(ContainerState.Running, bed.Containers.ResumeAsync("p", bed.Me, None).GetAwaiter().GetResult().State);
        Assert.Equal("ContainerNotPaused", Assert.Throws<Ds01Exception>(() => bed.Containers.ResumeAsync("p", bed.Me, None).GetAwaiter().GetResult()).ErrorId);
    }

    [Fact]
    public void An_unknown_name_is_ObjectNotFound_with_a_hint()
    {
        using var bed = new CoreBed();
        var e = Assert.Throws<Ds01Exception>(() => bed.Containers.StartAsync("ghost", bed.Me, None).GetAwaiter().GetResult());
        Assert.Equal((Ds01ErrorKind.NotFound, "ContainerNotFound"), (e.Kind, e.ErrorId));
        Assert.NotNull(e.RecommendedAction);
    }

    [Fact]
    public void The_shell_target_needs_a_running_container_and_prefers_bash()
    {
        using var bed = new CoreBed();
        bed.Create("sh");
        Assert.Equal("ContainerNotRunning",
            Assert.Throws<Ds01Exception>(() => bed.Containers.ShellTargetAsync("sh", bed.Me, start: false, null, None).GetAwaiter().GetResult()).ErrorId);

        bed.Engine.Exec = (_, cmd) => new ExecResult(cmd.Contains("/bin/bash") ? 1 : 0, "", "");
        var (id, shell) = bed.Containers.ShellTargetAsync("sh", bed.Me, start: true, null, None).GetAwaiter().GetResult();
        Assert.Equal("/bin/sh", shell);
        Assert.Equal(Assert.Single(bed.Engine.Containers).ID, id);
        Assert.True(bed.Engine.Containers[0].State?.Running);

        bed.Engine.Exec = (_, _) => new ExecResult(0, "", "");
        Assert.Equal("/bin/bash", bed.Containers.ShellTargetAsync("sh", bed.Me, start: false, null, None).GetAwaiter().GetResult().Shell);
        Assert.Equal("/bin/zsh", bed.Containers.ShellTargetAsync("sh", bed.Me, start: false, "/bin/zsh", None).GetAwaiter().GetResult().Shell);
    }

    [Fact]
    public void Select_filters_by_owner_and_state_and_orders_by_name()
    {
        using var bed = new CoreBed();
        bed.Create("b");
        bed.Create("a");
        bed.Engine.AddContainer("other._.4321", new Dictionary<string, string> { [Labels.Aime] = "someone", [Labels.User] = "someone" }, state: "running");
        bed.Containers.StartAsync("b", bed.Me, None).GetAwaiter().GetResult();
        var all = bed.Containers.ListAllAsync(None).GetAwaiter().GetResult();

        Assert.Equal(new[] { "a", "b", "other" }, ContainerService.Select(all, null, null).Select(c => c.Name));
        Assert.Equal(new[] { "a", "b" }, ContainerService.Select(all, bed.Me, null).Select(c => c.Name));
        Assert.Equal(new[] { "b" }, ContainerService.Select(all, bed.Me, new[] { ContainerState.Running }).Select(c => c.Name));
    }

    [Fact]
    public void Stats_of_a_stopped_container_need_no_docker_call()
    {
        using var bed = new CoreBed();
        var c = bed.Create("idle");
        var stats = bed.Containers.StatsAsync(c, None).GetAwaiter().GetResult();
        Assert.Equal((0.0, 0L), (stats.CpuPercent, stats.MemoryUsageBytes));
        Assert.DoesNotContain(bed.Engine.Calls, x => x.StartsWith("Stats", StringComparison.Ordinal));
    }
}

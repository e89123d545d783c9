using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Maintenance;
using Xunit;

namespace Ds01.Tests.Unit.Maintenance;

/// <summary>The planner's rules, over snapshots as the service gathers them (the integration tests run them on a real dockerd).</summary>
public class MaintenancePlannerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly MaintenanceSettings S = MaintenanceSettings.Default;

    private static ContainerFacts Running(string id, double cpu, double? idleH = 1, double? maxH = null, int execs = 0, int? gpuUtil = null,
        DateTimeOffset? keepAlive = null, bool prot = false, DateTimeOffset? started = null) => new()
    {
        Id = id, Tag = id + "._.1001", User = "alice", State = ContainerState.Running, CreatedAt = T0.AddHours(-1),
        StartedAt = started ?? T0.AddHours(-1), CpuPercent = cpu, IdleTimeoutHours = idleH, MaxRuntimeHours = maxH, ExecSessions = execs,
        GpuUtilPercent = gpuUtil, KeepAliveAt = keepAlive, Protected = prot, Gpu = gpuUtil is null ? "" : "0",
    };

    private static List<Ds01MaintenanceAction> Run(ref MaintenanceState state, DateTimeOffset now, MaintenanceTask[] tasks, params ContainerFacts[] cs)
    {
        var (actions, next) = MaintenancePlanner.Plan(new MaintenanceSnapshot { Containers = cs }, state, S, now, tasks);
        state = next;
        return actions;
    }

    [Fact]
    public void Idle_stops_only_a_container_idle_in_every_sample_over_the_timeout_and_warns_once_at_80_percent()
    {
        var st = new MaintenanceState();
        var idle = new[] { MaintenanceTask.Idle };
        ContainerFacts[] At(double sleeperCpu) => new[]
        {
            Running("sleeper", sleeperCpu), Running("burner", 99.5), Running("shell", 0, execs: 1), Running("gpu", 0.1, gpuUtil: 40),
            Running("kept", 0, keepAlive: T0), Running("protected", 0, prot: true), Running("nolimit", 0, idleH: null),
        };
        Assert.Empty(Run(ref st, T0, idle, At(0.2)));
        Assert.Equal(T0, st.Containers["sleeper"].IdleSince);
        var warn = Assert.Single(Run(ref st, T0.AddMinutes(50), idle, At(0.3)));
        Assert.Equal((MaintenanceActionKind.Warn, "sleeper._.1001"), (warn.Action, warn.Container));
        Assert.Equal(T0.AddHours(1), warn.StopsAt);
        Assert.Empty(Run(ref st, T0.AddMinutes(55), idle, At(0.3)));           // warned once per idle streak
        var stop = Assert.Single(Run(ref st, T0.AddMinutes(61), idle, At(4.9)));
        Assert.Equal((MaintenanceTask.Idle, MaintenanceActionKind.Stop, "sleeper._.1001", "alice"), (stop.Task, stop.Action, stop.Container, stop.User));
        Assert.False(stop.Done);
        Assert.False(st.Containers.ContainsKey("protected"));
    }

    [Fact]
    public void One_busy_sample_starts_the_idle_time_over()
    {
        var st = new MaintenanceState();
        var idle = new[] { MaintenanceTask.Idle };
        Run(ref st, T0, idle, Running("c", 0));
        Run(ref st, T0.AddMinutes(45), idle, Running("c", 50));     // busy in between
        Assert.Empty(Run(ref st, T0.AddMinutes(61), idle, Running("c", 0)));
        Assert.Equal(T0.AddMinutes(61), st.Containers["c"].IdleSince);
        Assert.DoesNotContain(Run(ref st, T0.AddMinutes(120), idle, Running("c", 0)), a => a.Action == MaintenanceActionKind.Stop);
        Assert.Equal(MaintenanceActionKind.Stop, Assert.Single(Run(ref st, T0.AddMinutes(122), idle, Running("c", 0))).Action);
    }

    [Fact]
    public void An_unmeasured_CPU_counts_as_busy_and_a_restart_starts_over()
    {
        var st = new MaintenanceState();
        var idle = new[] { MaintenanceTask.Idle };
        Run(ref st, T0, idle, Running("c", 0));
        var unmeasured = new ContainerFacts { Id = "c", Tag = "c._.1001", State = ContainerState.Running, StartedAt = T0.AddHours(-1), IdleTimeoutHours = 1 };
        Assert.Empty(Run(ref st, T0.AddHours(2), idle, unmeasured));
        Run(ref st, T0.AddHours(3), idle, Running("c", 0));
        Assert.Empty(Run(ref st, T0.AddHours(4.5), idle, Running("c", 0, started: T0.AddHours(4))));
        Assert.Equal(T0.AddHours(4.5), st.Containers["c"].IdleSince);
    }

    [Fact]
    public void Runtime_warns_at_75_percent_then_stops_at_the_limit_with_fractional_hours()
    {
        var st = new MaintenanceState();
        var rt = new[] { MaintenanceTask.Runtime };
        var c = Running("job", 100, maxH: 0.5, started: T0);
        Assert.Empty(Run(ref st, T0.AddMinutes(20), rt, c));
        Assert.Equal(MaintenanceActionKind.Warn, Assert.Single(Run(ref st, T0.AddMinutes(23), rt, c)).Action);
        Assert.Empty(Run(ref st, T0.AddMinutes(25), rt, c));
        var stop = Assert.Single(Run(ref st, T0.AddMinutes(30), rt, c));
        Assert.Equal((MaintenanceTask.Runtime, MaintenanceActionKind.Stop), (stop.Task, stop.Action));
        Assert.Empty(Run(ref st, T0.AddHours(5), rt, Running("job", 100, maxH: 0.5, started: T0, prot: true)));
    }

    [Fact]
    public void A_container_due_for_both_idle_and_runtime_is_stopped_once()
    {
        var st = new MaintenanceState();
        var both = new[] { MaintenanceTask.Idle, MaintenanceTask.Runtime };
        Run(ref st, T0, both, Running("c", 0, maxH: 1, started: T0.AddHours(-0.5)));
        var acts = Run(ref st, T0.AddHours(1.1), both, Running("c", 0, maxH: 1, started: T0.AddHours(-0.5)));
        Assert.Equal(MaintenanceTask.Idle, Assert.Single(acts, a => a.Action == MaintenanceActionKind.Stop).Task);
    }

    [Fact]
    public void GpuHold_reports_each_expired_hold_once()
    {
        var st = new MaintenanceState();
        var gh = new[] { MaintenanceTask.GpuHold };
        ContainerFacts Stopped(string id, DateTimeOffset finished) => new()
        {
            Id = id, Tag = id + "._.1001", User = "alice", State = ContainerState.Stopped, FinishedAt = finished, Gpu = "1", GpuHoldMinutes = 15,
        };
        var a = Stopped("a", T0.AddMinutes(-20));
        var b = Stopped("b", T0.AddMinutes(-5));
        Assert.Equal("a._.1001", Assert.Single(Run(ref st, T0, gh, a, b)).Container);
        Assert.Equal("b._.1001", Assert.Single(Run(ref st, T0.AddMinutes(15), gh, a, b)).Container);
        Assert.Empty(Run(ref st, T0.AddMinutes(30), gh, a, b));
    }

    [Fact]
    public void On_a_cluster_the_hold_ends_the_running_job_after_it_and_again_while_Slurm_says_it_runs()
    {
        var st = new MaintenanceState();
        var gh = new[] { MaintenanceTask.GpuHold };
        ContainerFacts Job(string id, string gpu, long job, bool running) => new()
        {
            Id = id, Tag = id + "._.1001", User = "alice", State = ContainerState.Stopped, FinishedAt = T0.AddMinutes(-20), Gpu = gpu,
            GpuHoldMinutes = 30, SlurmJob = job, SlurmJobRunning = running,
        };
        // Within its 30-minute hold the GPU container's job stays; a CPU-only one has no hold; an ended job needs nothing.
        var held = Job("held", "0", 41, true);
        var cpu = Job("cpu", "", 42, true);
        var ended = Job("ended", "1", 43, false);
        var first = Assert.Single(Run(ref st, T0, gh, held, cpu, ended));
        Assert.Equal((MaintenanceActionKind.EndJob, "cpu._.1001", 42L), (first.Action, first.Container, first.Job));
        // Past the hold: EndJob, and once more on the next run if Slurm still lists the job as running.
        var after = Assert.Single(Run(ref st, T0.AddMinutes(11), gh, held, ended));
        Assert.Equal((MaintenanceActionKind.EndJob, 41L, T0.AddMinutes(10)), (after.Action, after.Job, after.StopsAt));
        Assert.Contains("ends Slurm job 41", after.Reason);
        Assert.Single(Run(ref st, T0.AddMinutes(20), gh, held));
        // No Release event for a cluster container: its hold is the job's.
        Assert.DoesNotContain(Run(ref st, T0.AddMinutes(21), gh, ended), a => a.Action == MaintenanceActionKind.Release);
    }

    [Fact]
    public void Orphans_are_gone_owners_old_never_started_and_unused_legacy_images_never_protected_ones()
    {
        var gone = new ContainerFacts { Id = "g", Tag = "g._.4242", User = "ghost", State = ContainerState.Stopped, OwnerExists = false, ImageId = "img-legacy" };
        var fresh = new ContainerFacts { Id = "f", Tag = "f._.1001", User = "alice", State = ContainerState.Created, CreatedAt = T0.AddMinutes(-10), ImageId = "img-used" };
        var old = new ContainerFacts { Id = "o", Tag = "o._.1001", User = "alice", State = ContainerState.Created, CreatedAt = T0.AddHours(-1) };
        var prot = new ContainerFacts { Id = "p", Tag = "p._.4242", User = "ghost", State = ContainerState.Created, CreatedAt = T0.AddDays(-9), OwnerExists = false, Protected = true };
        var images = new[]
        {
            new ImageFacts { Id = "img-legacy", Tags = new[] { "aimehub/pytorch:g._.4242" }, IsLegacyCommit = true },
            new ImageFacts { Id = "img-used", Tags = new[] { "aimehub/pytorch:f._.1001" }, IsLegacyCommit = true },
            new ImageFacts { Id = "img-prot", Tags = new[] { "aimehub/pytorch:x._.1001" }, IsLegacyCommit = true, Protected = true },
            new ImageFacts { Id = "img-proj", Tags = new[] { "ds01-1001/thesis:latest" }, IsProjectImage = true },
            new ImageFacts { Id = "img-ghost", Tags = new[] { "ds01-4242/old:latest" }, IsProjectImage = true, OwnerExists = false },
        };
        var (actions, _) = MaintenancePlanner.Plan(new MaintenanceSnapshot { Containers = new[] { gone, fresh, old, prot }, Images = images },
            new MaintenanceState(), S, T0, new[] { MaintenanceTask.Orphans });
        Assert.Equal(new[] { "Remove g._.4242", "Remove o._.1001", "RemoveImage aimehub/pytorch:g._.4242", "RemoveImage ds01-4242/old:latest" },
            actions.Select(a => $"{a.Action} {a.Target}"));
        Assert.Equal("4242", actions[3].User);
        var all = MaintenancePlanner.Plan(new MaintenanceSnapshot { Containers = new[] { fresh }, Images = images }, new MaintenanceState(),
            S with { RemoveUnusedProjectImages = true }, T0, new[] { MaintenanceTask.Orphans }).Actions;
        Assert.Contains(all, a => a.Target == "ds01-1001/thesis:latest");
    }

    [Fact]
    public void Maintenance_settings_are_read_and_validated_with_file_line_and_column()
    {
        var ok = ResourceLimitsConfig.Parse("r.yaml", "maintenance:\n  idle_cpu_percent: 2.5\n  never_started_hours: 2\n  remove_unused_project_images: true\n");
        Assert.Equal(2.5, ok.Maintenance.IdleCpuPercent);
        Assert.Equal(2, ok.Maintenance.NeverStartedHours);
        Assert.True(ok.Maintenance.RemoveUnusedProjectImages);
        Assert.Equal(0.8, ok.Maintenance.IdleWarnFraction);
        var problems = ResourceLimitsConfig.Validate("r.yaml", "maintenance:\n  idle_warn_fraction: 1.5\n  idel_cpu_percent: 3\n");
        Assert.Contains(problems, p => p.Code == "InvalidValue" && p.Line == 2);
        Assert.Contains(problems, p => p.Code == "UnknownKey" && p.Line == 3 && p.Message.Contains("idle_cpu_percent"));
    }

    [Fact]
    public void Legacy_setup_containers_are_removed_when_stopped_past_half_an_hour_or_running_past_six_hours_and_only_with_Orphans()
    {
        SetupContainerFacts Setup(string id, double ageMinutes, bool running = false, bool prot = false) => new()
        {
            Id = id, Name = $"ds01-setup-{id}._.1001-deadbeef", Uid = "1001", Running = running, CreatedAt = T0.AddMinutes(-ageMinutes), Protected = prot,
        };
        var snap = new MaintenanceSnapshot
        {
            SetupContainers =
            [
                Setup("fresh", 29), Setup("old", 30), Setup("working", 120, running: true), Setup("hung", 6 * 60, running: true),
                Setup("kept", 600, prot: true),
            ],
        };
        var (actions, _) = MaintenancePlanner.Plan(snap, new MaintenanceState(), S, T0, MaintenancePlanner.AllTasks.ToArray());
        Assert.Equal(new[] { "ds01-setup-hung._.1001-deadbeef", "ds01-setup-old._.1001-deadbeef" }, actions.Select(a => a.Target).Order());
        Assert.All(actions, a => Assert.Equal((MaintenanceTask.Orphans, MaintenanceActionKind.Remove, "1001", a.Target), (a.Task, a.Action, a.User, a.Container)));
        Assert.Contains("not running", actions.Single(a => a.Id == "old").Reason);
        Assert.Contains("still running after 6 h", actions.Single(a => a.Id == "hung").Reason);

        var others = MaintenancePlanner.AllTasks.Where(t => t != MaintenanceTask.Orphans).ToArray();
        Assert.Empty(MaintenancePlanner.Plan(snap, new MaintenanceState(), S, T0, others).Actions);
    }
}

using System.Text.Json;
using Ds01.Core;
using Ds01.Core.Events;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Ds01.Core.Maintenance;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>A clock the test moves: ages come from it, CPU samples and stops are real.</summary>
public sealed class TestClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// Invoke-Ds01Maintenance against the real dockerd: containers are arranged so each task must find exactly the
/// right ones (a sleeper next to a CPU burner, a protected one, a never-started one, one whose owner is gone, a
/// stopped GPU holder, an unused legacy image), with a TimeProvider for ages and real stops and removals.
/// </summary>
[Collection("engine")]
public class MaintenanceTests
{
    private const string Img = DockerTestBed.BusyboxImage;
    private const string GhostUid = "59999";

    private static string Limits => "maintenance:\n  never_started_hours: 1\n  stop_timeout_seconds: 2\n  idle_cpu_percent: 5\n";

    private static DockerTestBed Bed(string defaults = "idle_timeout_hours: 1\nmax_runtime_hours: 10") => new(Limits, extraDefaults: defaults);

    /// <summary>A container as Ds01 labels them, made with the docker CLI so the command can be chosen.</summary>
    private static string Make(DockerTestBed bed, string stem, bool start, string[] command, string uid = "0", string user = "root", params string[] labels)
    {
        var args = new List<string> { start ? "run" : "create" };
        if (start) args.Add("-d");
        args.AddRange(new[] { "--init", "--name", $"{bed.Name(stem)}._.{uid}", "--label", "ds01.managed=true", "--label", $"ds01.user={user}",
            "--label", $"ds01.user_id={uid}", "--label", $"aime.mlc={user}", "--label", $"ds01.name={bed.Name(stem)}" });
        foreach (var l in labels) { args.Add("--label"); args.Add(l); }
        args.Add(Img);
        args.AddRange(command);
        var r = DockerTestBed.DockerCli(args.ToArray());
        Assert.True(r.Code == 0, r.Err);
        return $"{bed.Name(stem)}._.{uid}";
    }

    private static readonly string[] Sleep = { "sleep", "100000" };
    private static readonly string[] Burn = { "sh", "-c", "while :; do :; done" };

    private static (MaintenanceService Service, TestClock Clock) Service(DockerTestBed bed)
    {
        var clock = new TestClock();
        var session = new Ds01Session(new Ds01Paths(bed.Config.ConfigDir, bed.Config.StateDir, bed.Config.LogDir), new OsIdentitySource(), clock);
        return (new MaintenanceService(session, bed.Engine), clock);
    }

    private static List<string> Mine(DockerTestBed bed, IEnumerable<Ds01MaintenanceAction> actions) =>
        actions.Where(a => a.Target.Contains(bed.RunId, StringComparison.Ordinal)).Select(a => $"{a.Task} {a.Action} {a.Target}").Order().ToList();

    private static readonly MaintenanceTask[] ContainerTasks = { MaintenanceTask.Idle, MaintenanceTask.Runtime, MaintenanceTask.GpuHold, MaintenanceTask.Orphans };

    [Fact]
    public void Each_task_finds_exactly_the_right_containers_and_the_plan_is_what_the_run_does()
    {
        using var bed = Bed();
        var sleeper = Make(bed, "sleeper", true, Sleep);
        var burner = Make(bed, "burner", true, Burn);
        var prot = Make(bed, "protected", true, Sleep, labels: "ds01.protected=true");
        var never = Make(bed, "never", false, Sleep);
        var ghost = Make(bed, "ghost", false, Sleep, GhostUid, $"ghost-{bed.RunId}");
        var held = Make(bed, "held", true, Sleep, labels: new[] { "ds01.gpu.slots=0", "ds01.gpu.hold_minutes=15" });
        Assert.Equal(0, DockerTestBed.DockerCli("stop", "-t", "0", held).Code);
        var legacy = $"ds01-test/legacy-{bed.RunId}:old._.{GhostUid}";
        Assert.Equal(0, DockerTestBed.DockerCli("commit", ghost, legacy).Code);
        var protImage = $"ds01-test/keep-{bed.RunId}:kept._.{GhostUid}";
        Assert.Equal(0, DockerTestBed.DockerCli("commit", "--change", "LABEL ds01.protected=true", ghost, protImage).Code);

        var (svc, clock) = Service(bed);
        var t0 = clock.Now;
        var expected1 = new[] { $"Orphans Remove {ghost}", $"Orphans RemoveImage {legacy}" }.Order().ToList();
        var (plan1, _) = svc.PlanAsync(ContainerTasks, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(expected1, Mine(bed, plan1));
        Assert.All(plan1, a => Assert.False(a.Done));
        Assert.NotNull(bed.Inspect(ghost));                                                  // planning changed nothing
        Assert.False(File.Exists(MaintenanceState.PathIn(bed.Config.StateDir)));

        var run1 = svc.RunAsync(ContainerTasks, null, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(expected1, Mine(bed, run1));
        Assert.All(run1.Where(a => a.Target.Contains(bed.RunId)), a => Assert.True(a.Done, a.Error));
        Assert.Null(bed.Inspect(ghost));
        Assert.NotEqual(0, DockerTestBed.DockerCli("image", "inspect", legacy).Code);
        Assert.Equal(0, DockerTestBed.DockerCli("image", "inspect", protImage).Code);
        var state = MaintenanceState.Load(bed.Config.StateDir);
        Assert.Equal(t0, state.Containers[bed.Inspect(sleeper)!.ID].IdleSince);
        Assert.Null(state.Containers[bed.Inspect(burner)!.ID].IdleSince);                     // CPU-busy and silent is busy

        // 90 minutes on: the sleeper's idle hour is over, the never-started one is an hour old, the GPU hold has ended.
        clock.Now = t0.AddMinutes(90);
        var expected2 = new[] { $"Idle Stop {sleeper}", $"Orphans Remove {never}", $"GpuHold Release {held}" }.Order().ToList();
        var (plan2, _) = svc.PlanAsync(ContainerTasks, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(expected2, Mine(bed, plan2));
        var run2 = svc.RunAsync(ContainerTasks, null, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(expected2, Mine(bed, run2));
        Assert.All(run2.Where(a => a.Target.Contains(bed.RunId)), a => Assert.True(a.Done, a.Error));
        Assert.False(bed.Inspect(sleeper)!.State!.Running);
        Assert.True(bed.Inspect(burner)!.State!.Running);
        Assert.True(bed.Inspect(prot)!.State!.Running);
        Assert.Null(bed.Inspect(never));

        var events = EventReader.Read(EventReader.Files(bed.Config.EventLogFile), null, new EventReadStats())
            .Where(e => e.Container.Contains(bed.RunId)).ToList();
        Assert.Contains(events, e => e.Type == "cleanup.idle" && e.Container == sleeper && e.Outcome == "stopped" && e.Actor == "maintenance");
        Assert.Contains(events, e => e.Type == "cleanup.orphan" && e.Container == ghost && e.Outcome == "removed" && e.User == $"ghost-{bed.RunId}");
        Assert.Contains(events, e => e.Type == "cleanup.orphan" && e.Container == never && e.Outcome == "removed");
        Assert.Contains(events, e => e.Type == "gpu.release" && e.Container == held && e.Gpu == "0");
        Assert.DoesNotContain(events, e => e.Container == burner || e.Container == prot);

        // Nothing is due again: the hold was reported once, the stopped sleeper is not idle any more.
        clock.Now = t0.AddMinutes(100);
        Assert.Empty(Mine(bed, svc.RunAsync(ContainerTasks, null, CancellationToken.None).GetAwaiter().GetResult()));
    }

    [Fact]
    public void Runtime_warns_at_75_percent_and_stops_at_half_an_hour()
    {
        using var bed = Bed("max_runtime_hours: 0.5");
        var job = Make(bed, "job", true, Burn);
        var (svc, clock) = Service(bed);
        var started = ContainerMapperTime(bed.Inspect(job)!.State!.StartedAt);
        var runtime = new[] { MaintenanceTask.Runtime };
        clock.Now = started.AddMinutes(20);
        Assert.Empty(Mine(bed, svc.RunAsync(runtime, null, CancellationToken.None).GetAwaiter().GetResult()));
        clock.Now = started.AddMinutes(24);
        var warn = Assert.Single(svc.RunAsync(runtime, null, CancellationToken.None).GetAwaiter().GetResult(), a => a.Container == job);
        Assert.Equal(MaintenanceActionKind.Warn, warn.Action);
        Assert.True(bed.Inspect(job)!.State!.Running);
        clock.Now = started.AddMinutes(31);
        var stop = Assert.Single(svc.RunAsync(runtime, null, CancellationToken.None).GetAwaiter().GetResult(), a => a.Container == job);
        Assert.Equal((MaintenanceActionKind.Stop, true), (stop.Action, stop.Done));
        Assert.False(bed.Inspect(job)!.State!.Running);
        var events = EventReader.Read(EventReader.Files(bed.Config.EventLogFile), new EventFilter { Containers = new[] { job } }, new EventReadStats()).ToList();
        Assert.Equal(new[] { "maintenance.warning", "cleanup.runtime" }, events.Select(e => e.Type));
        Assert.Contains("\"stops_at\"", events[0].Details);
    }

    private static DateTimeOffset ContainerMapperTime(string text) => Core.Containers.ContainerMapper.ParseTime(text)!.Value;

    [Fact]
    public void WhatIf_returns_the_plan_the_cmdlet_then_carries_out_and_a_protected_orphan_is_left_alone()
    {
        using var bed = Bed();
        var ghost = Make(bed, "ghost", false, Sleep, GhostUid, $"ghost-{bed.RunId}");
        var kept = Make(bed, "kept", false, Sleep, GhostUid, $"ghost-{bed.RunId}", "ds01.protected=true");
        string Rows(PsResult r) => string.Join("\n", r.Objects<Ds01MaintenanceAction>().Where(a => a.Target.Contains(bed.RunId))
            .Select(a => $"{a.Task} {a.Action} {a.Target} {a.User} {a.Reason}"));

        var whatIf = bed.Run("Invoke-Ds01Maintenance -Task Orphans -WhatIf");
        Assert.Empty(whatIf.Errors);
        var planned = whatIf.Objects<Ds01MaintenanceAction>().Where(a => a.Target.Contains(bed.RunId)).ToList();
        Assert.Equal(ghost, Assert.Single(planned).Target);
        Assert.False(planned[0].Done);
        Assert.NotNull(bed.Inspect(ghost));
        Assert.False(File.Exists(bed.Config.EventLogFile) && File.ReadAllText(bed.Config.EventLogFile).Contains(bed.RunId));

        var real = bed.Run("Invoke-Ds01Maintenance -Task Orphans");
        Assert.Empty(real.Errors);
        Assert.Equal(Rows(whatIf), Rows(real));
        Assert.True(real.Objects<Ds01MaintenanceAction>().Single(a => a.Target == ghost).Done);
        Assert.Null(bed.Inspect(ghost));
        Assert.NotNull(bed.Inspect(kept));
    }

    [Fact]
    public void A_second_run_while_one_holds_the_lock_does_nothing_and_says_so()
    {
        using var bed = Bed();
        var ghost = Make(bed, "ghost", false, Sleep, GhostUid, $"ghost-{bed.RunId}");
        using (MaintenanceLock.Acquire(Path.Combine(bed.Config.StateDir, MaintenanceService.LockFileName)))
        {
            var r = bed.Run("Invoke-Ds01Maintenance -Task Orphans");
            var e = r.SingleError();
            Assert.Equal("MaintenanceRunning", e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(System.Management.Automation.ErrorCategory.ResourceBusy, e.CategoryInfo.Category);
            Assert.Empty(r.Output);
            Assert.NotNull(bed.Inspect(ghost));
        }
        Assert.Empty(bed.Run("Invoke-Ds01Maintenance -Task Orphans").Errors);
        Assert.Null(bed.Inspect(ghost));
    }

    [Fact]
    public void One_containers_failure_is_reported_on_its_action_and_the_others_go_on()
    {
        using var bed = Bed();
        var ghosts = new[] { Make(bed, "ghost1", false, Sleep, GhostUid, $"ghost-{bed.RunId}"), Make(bed, "ghost2", false, Sleep, GhostUid, $"ghost-{bed.RunId}") };
        var legacy = $"ds01-test/legacy-{bed.RunId}:old._.{GhostUid}";
        Assert.Equal(0, DockerTestBed.DockerCli("commit", ghosts[0], legacy).Code);
        var (svc, _) = Service(bed);
        string? vanished = null;
        // Right after the first removal, someone else removes the other container: its action must fail alone.
        var actions = svc.RunAsync(new[] { MaintenanceTask.Orphans }, a =>
        {
            if (vanished is null && a.Action == MaintenanceActionKind.Remove && ghosts.Contains(a.Target))
            {
                vanished = ghosts.Single(g => g != a.Target);
                Assert.Equal(0, DockerTestBed.DockerCli("rm", "-f", vanished).Code);
            }
        }, CancellationToken.None).GetAwaiter().GetResult().Where(a => a.Target.Contains(bed.RunId)).ToList();
        Assert.Equal(3, actions.Count);
        var failed = Assert.Single(actions, a => !a.Done);
        Assert.Equal(vanished, failed.Target);
        Assert.False(string.IsNullOrEmpty(failed.Error));
        Assert.True(actions.Single(a => a.Target == legacy).Done);
        var events = EventReader.Read(EventReader.Files(bed.Config.EventLogFile), new EventFilter { Containers = new[] { vanished! } }, new EventReadStats()).ToList();
        Assert.Equal("failure", Assert.Single(events).Outcome);
    }

    [Fact]
    public void An_open_exec_session_or_a_fresh_keep_alive_file_keeps_an_idle_container()
    {
        using var bed = Bed();
        var names = new[] { bed.Name("plain"), bed.Name("session"), bed.Name("keepalive") };
        foreach (var n in names)
            Assert.Empty(bed.Run($"New-Ds01Container {n} -Image {Img} -GpuCount 0; Start-Ds01Container {n}").Errors);
        var tags = names.Select(n => $"{n}._.{bed.Uid}").ToArray();
        Assert.Equal(0, DockerTestBed.DockerCli("exec", "-d", tags[1], "sleep", "100000").Code);     // someone is in a shell
        File.WriteAllText(Path.Combine(bed.Workspaces, names[2].ToLowerInvariant(), ".keep-alive"), "");
        var (svc, clock) = Service(bed);
        var idle = new[] { MaintenanceTask.Idle };
        var t0 = clock.Now;
        svc.RunAsync(idle, null, CancellationToken.None).GetAwaiter().GetResult();
        clock.Now = t0.AddMinutes(90);
        var stops = Mine(bed, svc.RunAsync(idle, null, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(new[] { $"Idle Stop {tags[0]}" }, stops);
        Assert.True(bed.Inspect(tags[1])!.State!.Running);
        Assert.True(bed.Inspect(tags[2])!.State!.Running);
        // The keep-alive only postpones: past keep_alive_max_hours (24 h) it no longer counts, and the idle time starts then.
        clock.Now = t0.AddHours(25);
        Assert.Empty(Mine(bed, svc.RunAsync(idle, null, CancellationToken.None).GetAwaiter().GetResult()));
        clock.Now = t0.AddHours(26.5);
        Assert.Equal(new[] { $"Idle Stop {tags[2]}" }, Mine(bed, svc.RunAsync(idle, null, CancellationToken.None).GetAwaiter().GetResult()));
    }

    [Fact]
    public void A_container_of_a_real_account_becomes_an_orphan_when_the_account_is_deleted()
    {
        using var bed = Bed();
        var account = "d01m" + bed.RunId;
        Assert.Equal(0, Cmd("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", account).Code);
        var deleted = false;
        try
        {
            var uid = new OsIdentitySource().FindByName(account)!.Uid.ToString();
            var tag = Make(bed, "leaver", false, Sleep, uid, account);
            var (svc, _) = Service(bed);
            Assert.Empty(Mine(bed, svc.PlanAsync(new[] { MaintenanceTask.Orphans }, CancellationToken.None).GetAwaiter().GetResult().Actions));
            Assert.Equal(0, Cmd("userdel", account).Code);
            deleted = true;
            var plan = svc.PlanAsync(new[] { MaintenanceTask.Orphans }, CancellationToken.None).GetAwaiter().GetResult().Actions;
            var a = Assert.Single(plan, x => x.Target == tag);
            Assert.Contains($"'{account}' no longer exists", a.Reason);
        }
        finally
        {
            if (!deleted) Cmd("userdel", account);
        }
    }

    private static (int Code, string Err) Cmd(string program, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var x in args) psi.ArgumentList.Add(x);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    [Fact]
    public void A_legacy_setup_container_left_behind_is_removed_once_old_and_a_running_one_only_once_hung()
    {
        using var bed = Bed();
        // What a killed create or a dockerd restart between the setup container's create and removal leaves (UserSetupPath).
        string Setup(string stem, bool run)
        {
            var name = $"ds01-setup-{bed.Name(stem)}._.{bed.Uid}-deadbeef";
            var args = new List<string> { run ? "run" : "create" };
            if (run) args.Add("-d");
            args.AddRange(new[] { "--name", name, "--label", "ds01.managed=true", Img });
            args.AddRange(run ? Sleep : new[] { "true" });
            var r = DockerTestBed.DockerCli(args.ToArray());
            Assert.True(r.Code == 0, r.Err);
            return name;
        }
        var left = Setup("left", run: false);
        var working = Setup("working", run: true);
        var user = Make(bed, "user", true, Sleep);
        var (svc, clock) = Service(bed);
        var t0 = clock.Now;
        var orphans = new[] { MaintenanceTask.Orphans };

        // Fresh, all are kept: a create may be between its setup container's exit and the commit.
        Assert.Empty(Mine(bed, svc.RunAsync(orphans, null, CancellationToken.None).GetAwaiter().GetResult()));
        Assert.NotNull(bed.Inspect(left));

        // Half an hour on, the stopped one is a leftover; the running one is still in use, the user's container is no setup container.
        clock.Now = t0.AddMinutes(31);
        var (plan, _) = svc.PlanAsync(orphans, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(new[] { $"Orphans Remove {left}" }, Mine(bed, plan));
        Assert.NotNull(bed.Inspect(left));                                                   // planning (-WhatIf) changed nothing
        var run = svc.RunAsync(orphans, null, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(new[] { $"Orphans Remove {left}" }, Mine(bed, run));
        var removed = run.Single(a => a.Target == left);
        Assert.True(removed.Done, removed.Error);
        Assert.Equal(bed.Uid.ToString(), removed.User);
        Assert.Null(bed.Inspect(left));
        Assert.True(bed.Inspect(working)!.State!.Running);
        Assert.True(bed.Inspect(user)!.State!.Running);

        // Six hours on, the running one's script hangs: removed too; the user's running container stays.
        clock.Now = t0.AddHours(6).AddMinutes(1);
        Assert.Equal(new[] { $"Orphans Remove {working}" }, Mine(bed, svc.RunAsync(orphans, null, CancellationToken.None).GetAwaiter().GetResult()));
        Assert.Null(bed.Inspect(working));
        Assert.True(bed.Inspect(user)!.State!.Running);

        var events = EventReader.Read(EventReader.Files(bed.Config.EventLogFile), null, new EventReadStats())
            .Where(e => e.Container.Contains(bed.RunId)).ToList();
        Assert.Contains(events, e => e.Type == "cleanup.orphan" && e.Container == left && e.Outcome == "removed" && e.Actor == "maintenance");
        Assert.Contains(events, e => e.Type == "cleanup.orphan" && e.Container == working && e.Outcome == "removed");
        Assert.DoesNotContain(events, e => e.Container == user);
    }

    [Fact]
    public void A_non_admin_may_not_run_maintenance()
    {
        using var bed = Bed();
        var r = Ds01Cli.RunWith(bed.Env, (65534, 65534), "-c", "Invoke-Ds01Maintenance -WhatIf");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("id: MaintenanceNeedsAdmin", r.Err);
        Assert.Contains("category: PermissionDenied", r.Err);
    }
}

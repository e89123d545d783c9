using System.Management.Automation;
using System.Text.Json;
using Ds01.Core.Containers;
using Xunit;

namespace Ds01.Tests.Integration;

[Collection("engine")]
public class ContainerLifecycleTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    [Fact]
    public void The_whole_lifecycle_runs_on_a_real_engine_with_labels_and_limits_fixed_at_create()
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("life");
        var r = bed.Run($"New-Ds01Container {name} -Image {Img} -GpuCount 0 -PassThru");
        Assert.Empty(r.Errors);
        var created = Assert.IsType<Ds01Container>(Assert.Single(r.Output).BaseObject);
        Assert.Equal(ContainerState.Created, created.State);
        Assert.Equal(name, created.Name);
        Assert.Equal(bed.Tag("life"), created.Tag);

        var c = bed.Inspect(bed.Tag("life"))!;
        var labels = c.Config!.Labels;
        Assert.Equal("true", labels["ds01.managed"]);
        Assert.Equal(Environment.UserName, labels["ds01.user"]);
        Assert.Equal(bed.Uid.ToString(), labels["ds01.user_id"]);
        Assert.Equal(name, labels["ds01.name"]);
        Assert.Equal(name.ToLowerInvariant(), labels["ds01.project"]);
        Assert.Equal("atomic", labels["ds01.interface"]);
        Assert.True(DateTimeOffset.TryParse(labels["ds01.created_at"], out _));
        Assert.Equal(Environment.UserName, labels["aime.mlc"]);
        Assert.Equal(name, labels["aime.mlc.NAME"]);
        Assert.Equal(Environment.UserName, labels["aime.mlc.USER"]);
        Assert.Equal(Path.Combine(bed.Workspaces, name.ToLowerInvariant()), labels["aime.mlc.WORK_MOUNT"]);
        Assert.True(labels.ContainsKey("aime.mlc.FRAMEWORK") && labels.ContainsKey("aime.mlc.DATA_MOUNT") && labels.ContainsKey("aime.mlc.GPUS"));

        var h = c.HostConfig!;
        Assert.Equal(1_500_000_000L, h.NanoCPUs);
        Assert.Equal(256L << 20, h.Memory);
        Assert.Equal(256L << 20, h.MemorySwap);
        Assert.Equal(64L << 20, h.ShmSize);
        Assert.Equal(200L, h.PidsLimit);
        Assert.True(h.Init);
        Assert.False(h.Privileged);
        Assert.Contains(h.Ulimits, u => u.Name == "memlock" && u.Soft == 8388608 && u.Hard == 8388608);
        Assert.Contains(h.Ulimits, u => u.Name == "stack" && u.Soft == 67108864);
        Assert.Contains($"{Path.Combine(bed.Workspaces, name.ToLowerInvariant())}:/workspace", h.Binds);
        Assert.Equal($"{bed.Uid}:{new Core.Identity.OsIdentitySource().Current().Gid}", c.Config.User);
        Assert.True(c.Config.Tty && c.Config.OpenStdin);
        Assert.Equal("/workspace", c.Config.WorkingDir);
        Assert.True(Directory.Exists(Path.Combine(bed.Workspaces, name.ToLowerInvariant())), "workspace created on the host");

        ContainerState StateAfter(string script)
        {
            var res = bed.Run(script);
            Assert.Empty(res.Errors);
            return Assert.IsType<Ds01Container>(Assert.Single(res.Output).BaseObject).State;
        }
        Assert.Equal(ContainerState.Running, StateAfter($"Start-Ds01Container {name} -PassThru"));
        Assert.Equal(ContainerState.Paused, StateAfter($"Suspend-Ds01Container {name} -PassThru"));
        Assert.Equal(ContainerState.Running, StateAfter($"Resume-Ds01Container {name} -PassThru"));
        Assert.Equal(ContainerState.Stopped, StateAfter($"Stop-Ds01Container {name} -TimeoutSec 5 -PassThru"));
        var removed = bed.Run($"Remove-Ds01Container {name} -Force");
        Assert.Empty(removed.Errors);
        Assert.Null(bed.Inspect(bed.Tag("life")));
        Assert.True(Directory.Exists(Path.Combine(bed.Workspaces, name.ToLowerInvariant())), "workspace files stay after remove");

        var events = File.ReadAllLines(bed.Config.EventLogFile).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(new[] { "container.create", "container.start", "container.pause", "container.unpause", "container.stop", "container.remove" },
            events.Select(e => e.GetProperty("event_type").GetString()));
        Assert.All(events, e =>
        {
            Assert.Equal(Environment.UserName, e.GetProperty("user").GetString());
            Assert.Equal("1", e.GetProperty("schema_version").GetString());
            Assert.Equal(bed.Tag("life"), e.GetProperty("details").GetProperty("container").GetString());
        });
    }

    [Fact]
    public void Pipelines_compose_list_stop_and_remove()
    {
        using var bed = new DockerTestBed();
        var a = bed.Name("pa");
        var b = bed.Name("pb");
        Assert.Empty(bed.Run($"New-Ds01Container {a} -Image {Img} -GpuCount 0; New-Ds01Container {b} -Image {Img} -GpuCount 0; Start-Ds01Container {a}; Start-Ds01Container {b}").Errors);

        var running = bed.Run($"Get-Ds01Container -Name '*-{bed.RunId}' -State Running");
        Assert.Equal(new[] { a, b }, running.Objects<Ds01Container>().Select(c => c.Name));
        Assert.All(running.Objects<Ds01Container>(), c => Assert.True(c.Uptime is not null && c.StartedAt is not null));

        var stopped = bed.Run($"Get-Ds01Container -Name '*-{bed.RunId}' | Stop-Ds01Container -TimeoutSec 2 -PassThru");
        Assert.Empty(stopped.Errors);
        Assert.All(stopped.Objects<Ds01Container>(), c => Assert.Equal(ContainerState.Stopped, c.State));
        Assert.Equal(2, stopped.Output.Count);

        var removed = bed.Run($"Get-Ds01Container -Name '*-{bed.RunId}' -State Stopped | Remove-Ds01Container -Force");
        Assert.Empty(removed.Errors);
        Assert.Null(bed.Inspect(bed.Tag("pa")));
        Assert.Null(bed.Inspect(bed.Tag("pb")));

        // Names by value work too.
        Assert.Empty(bed.Run($"'{a}' | New-Ds01Container -Image {Img} -GpuCount 0").Errors);
        Assert.NotNull(bed.Inspect(bed.Tag("pa")));
    }

    [Fact]
    public void Tab_completion_offers_the_callers_container_names()
    {
        using var bed = new DockerTestBed();
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("tabone")} -Image {Img} -GpuCount 0; New-Ds01Container {bed.Name("tabtwo")} -Image {Img} -GpuCount 0").Errors);
        var line = $"Start-Ds01Container -Name tabt";
        var r = bed.Run($"(TabExpansion2 -inputScript '{line}' -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { bed.Name("tabtwo") }, r.Output.Select(o => o.BaseObject.ToString()));
    }

    [Fact]
    public void WhatIf_changes_nothing()
    {
        using var bed = new DockerTestBed();
        var n = bed.Name("whatif");
        var r = bed.Run($"New-Ds01Container {n} -Image {Img} -GpuCount 0 -WhatIf");
        Assert.Empty(r.Errors);
        Assert.Null(bed.Inspect(bed.Tag("whatif")));

        Assert.Empty(bed.Run($"New-Ds01Container {n} -Image {Img} -GpuCount 0; Start-Ds01Container {n}").Errors);
        Assert.Empty(bed.Run($"Stop-Ds01Container {n} -WhatIf; Suspend-Ds01Container {n} -WhatIf; Remove-Ds01Container {n} -Stop -Force -WhatIf").Errors);
        var c = bed.Inspect(bed.Tag("whatif"))!;
        Assert.True(c.State!.Running && !c.State!.Paused);
        Assert.DoesNotContain("container.stop", File.ReadAllText(bed.Config.EventLogFile));
    }

    [Fact]
    public void Bad_requests_are_specific_errors_and_create_nothing()
    {
        using var bed = new DockerTestBed();
        var n = bed.Name("err");
        Assert.Empty(bed.Run($"New-Ds01Container {n} -Image {Img} -GpuCount 0; Start-Ds01Container {n}").Errors);

        ErrorRecord Err(string script)
        {
            var r = bed.Run(script);
            Assert.Empty(r.Output);
            return r.SingleError();
        }

        var exists = Err($"New-Ds01Container {n} -Image {Img} -GpuCount 0");
        Assert.Equal((ErrorCategory.ResourceExists, "ContainerExists"), (exists.CategoryInfo.Category, exists.FullyQualifiedErrorId.Split(',')[0]));

        var noImage = Err($"New-Ds01Container {bed.Name("noimg")} -GpuCount 0");
        Assert.Equal(ErrorCategory.ObjectNotFound, noImage.CategoryInfo.Category);
        Assert.Contains("Build-Ds01Image", noImage.ErrorDetails.RecommendedAction);

        var outside = Err($"New-Ds01Container {bed.Name("out")} -Image {Img} -GpuCount 0 -Workspace /etc");
        Assert.Equal((ErrorCategory.PermissionDenied, "MountOutsideAllowedRoots"), (outside.CategoryInfo.Category, outside.FullyQualifiedErrorId.Split(',')[0]));
        var sneaky = Err($"New-Ds01Container {bed.Name("out2")} -Image {Img} -GpuCount 0 -Workspace '{bed.Workspaces}/../../../etc'");
        Assert.Equal(ErrorCategory.PermissionDenied, sneaky.CategoryInfo.Category);

        var badName = Err($"New-Ds01Container 'bad;name' -Image {Img} -GpuCount 0");
        Assert.Equal(ErrorCategory.InvalidArgument, badName.CategoryInfo.Category);

        var running = Err($"Remove-Ds01Container {n} -Force");
        Assert.Equal((ErrorCategory.InvalidOperation, "ContainerRunning"), (running.CategoryInfo.Category, running.FullyQualifiedErrorId.Split(',')[0]));
        Assert.NotNull(bed.Inspect(bed.Tag("err")));

        var missing = Err($"Stop-Ds01Container {bed.Name("ghost")}");
        Assert.Equal(ErrorCategory.ObjectNotFound, missing.CategoryInfo.Category);

        var notPaused = Err($"Resume-Ds01Container {n}");
        Assert.Equal(ErrorCategory.InvalidOperation, notPaused.CategoryInfo.Category);

        // Nothing but the one good container exists for this run.
        var all = bed.Run($"Get-Ds01Container -Name '*-{bed.RunId}'").Objects<Ds01Container>().ToList();
        Assert.Equal(new[] { n }, all.Select(c => c.Name));
        Assert.Empty(bed.Run($"Remove-Ds01Container {n} -Stop -Force").Errors);
    }

    [Fact]
    public void Max_containers_is_enforced()
    {
        // The limit counts all of the user's containers, so set it one above what the daemon already holds.
        int existing;
        using (var probe = new DockerTestBed()) existing = probe.Run("Get-Ds01Container").Output.Count;
        using var bed = new DockerTestBed("users:\n  " + Environment.UserName + ": { max_containers: " + (existing + 1) + " }");
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("one")} -Image {Img} -GpuCount 0").Errors);
        var e = bed.Run($"New-Ds01Container {bed.Name("two")} -Image {Img} -GpuCount 0").SingleError();
        Assert.Equal((ErrorCategory.QuotaExceeded, "ContainerLimitReached"), (e.CategoryInfo.Category, e.FullyQualifiedErrorId.Split(',')[0]));
        Assert.Contains($"your limit is {existing + 1}", e.Exception.Message);
        Assert.Null(bed.Inspect(bed.Tag("two")));
    }

    [Fact]
    public void Parallel_creates_cannot_exceed_max_containers()
    {
        int existing;
        using (var probe = new DockerTestBed()) existing = probe.Run("Get-Ds01Container").Output.Count;
        using var bed = new DockerTestBed("users:\n  " + Environment.UserName + ": { max_containers: " + (existing + 1) + " }");
        var names = Enumerable.Range(0, 4).Select(i => bed.Name($"mc{i}")).ToList();
        var procs = names.Select(n => Ds01Cli.Start(bed.Env, null, "-c", $"New-Ds01Container {n} -Image {Img} -GpuCount 0")).ToList();
        var results = procs.Select((p, i) => { using (p) return Ds01Cli.Wait(p, new[] { names[i] }); }).ToList();
        Assert.Equal(1, results.Count(r => r.ExitCode == 0));
        Assert.All(results.Where(r => r.ExitCode != 0), r => Assert.Contains("id: ContainerLimitReached", r.Err));
        Assert.Single(names, n => bed.Inspect($"{n}._.{bed.Uid}") is not null);
    }

    [Fact]
    public void A_container_made_with_the_plain_docker_cli_and_aime_labels_is_listed()
    {
        using var bed = new DockerTestBed();
        var tag = bed.Tag("mlc");
        var (code, _, err) = DockerTestBed.DockerCli("create", "--name", tag, "--label", $"aime.mlc={Environment.UserName}",
            "--label", $"aime.mlc.NAME={bed.Name("mlc")}", "--label", $"aime.mlc.USER={Environment.UserName}",
            "--label", "aime.mlc.FRAMEWORK=Pytorch-2.5.1", Img);
        Assert.True(code == 0, err);
        var c = Assert.Single(bed.Run($"Get-Ds01Container {bed.Name("mlc")}").Objects<Ds01Container>());
        Assert.False(c.IsDs01Managed);
        Assert.Equal("Pytorch-2.5.1", c.Framework);
        Assert.Equal(ContainerState.Created, c.State);
        Assert.Equal(Environment.UserName, c.User);
    }

    [Fact]
    public void Exec_returns_stdout_lines_stderr_errors_and_the_exit_code_and_stats_do_not_hang()
    {
        using var bed = new DockerTestBed();
        var n = bed.Name("exec");
        Assert.Empty(bed.Run($"New-Ds01Container {n} -Image {Img} -GpuCount 0; Start-Ds01Container {n}").Errors);
        var r = bed.Run($"Invoke-Ds01ContainerCommand {n} -Command sh,-c,'echo one; echo two; echo oops >&2; exit 3'; $LASTEXITCODE");
        Assert.Equal(new object[] { "one", "two", 3 }, r.Output.Select(o => o.BaseObject));
        Assert.Equal("oops", r.SingleError().Exception.Message);

        var pwd = bed.Run($"Invoke-Ds01ContainerCommand {n} pwd");
        Assert.Equal("/workspace", Assert.Single(pwd.Output).BaseObject);

        var stats = bed.Run($"Get-Ds01ContainerStats {n}");
        Assert.Empty(stats.Errors);
        var s = Assert.IsType<Ds01ContainerStats>(Assert.Single(stats.Output).BaseObject);
        Assert.Equal(256L << 20, s.MemoryLimitBytes);
        Assert.True(s.Pids >= 1, "the shell and init are running");
        Assert.InRange(s.MemoryPercent, 0, 100);

        Assert.Empty(bed.Run($"Stop-Ds01Container {n} -Kill").Errors);
        var stoppedStats = bed.Run($"Get-Ds01ContainerStats {n} -All");
        Assert.Empty(stoppedStats.Errors);
        Assert.Equal(ContainerState.Stopped, Assert.IsType<Ds01ContainerStats>(Assert.Single(stoppedStats.Output).BaseObject).State);
        // Without -All a stopped container named exactly is an error that says so, not an empty answer.
        var stoppedNamed = bed.Run($"Get-Ds01ContainerStats {n}");
        Assert.Empty(stoppedNamed.Output);
        var said = stoppedNamed.SingleError();
        Assert.Equal("ContainerNotRunning", said.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("not running", said.ErrorDetails!.Message);
        Assert.Contains("-All", said.ErrorDetails.RecommendedAction);

        var notRunning = bed.Run($"Invoke-Ds01ContainerCommand {n} id").SingleError();
        Assert.Equal(ErrorCategory.InvalidOperation, notRunning.CategoryInfo.Category);
    }
}

using System.Management.Automation;
using System.Text.Json;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>GPU allocation against a real dockerd, in simulated attach mode (no NVIDIA runtime here).</summary>
[Collection("engine")]
public class GpuAllocationTests
{
    private const string Img = DockerTestBed.BusyboxImage;
    private static string Me => Environment.UserName;

    private static string FirstErrorId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    [Fact]
    public void Slots_are_recorded_in_labels_and_env_and_the_quota_is_enforced()
    {
        using var bed = new DockerTestBed($"users:\n  {Me}: {{ gpu_limit: 1 }}", simulatedGpus: 4);
        var r = bed.Run($"New-Ds01Container {bed.Name("g1")} -Image {Img} -GpuCount 1 -PassThru");
        Assert.Empty(r.Errors);
        var c = Assert.IsType<Ds01Container>(Assert.Single(r.Output).BaseObject);
        Assert.Equal("0", c.Gpu);

        var inspect = bed.Inspect(bed.Tag("g1"))!;
        Assert.Equal("0", inspect.Config!.Labels["ds01.gpu.slots"]);
        Assert.Equal("GPU-00000000-0000-4000-8000-000000000000", inspect.Config.Labels["ds01.gpu.uuids"]);
        Assert.Contains("CUDA_VISIBLE_DEVICES=GPU-00000000-0000-4000-8000-000000000000", inspect.Config.Env);
        Assert.Contains("NVIDIA_VISIBLE_DEVICES=GPU-00000000-0000-4000-8000-000000000000", inspect.Config.Env);
        Assert.True(inspect.HostConfig!.DeviceRequests is null || inspect.HostConfig!.DeviceRequests.Count == 0, "simulated mode attaches nothing");

        var second = bed.Run($"New-Ds01Container {bed.Name("g2")} -Image {Img} -GpuCount 1");
        var e = second.SingleError();
        Assert.Equal((ErrorCategory.QuotaExceeded, "GpuQuotaExceeded"), (e.CategoryInfo.Category, FirstErrorId(e)));
        Assert.Contains("holds 1.00", e.Exception.Message);
        Assert.Contains("limit is 1.00", e.Exception.Message);
        Assert.Null(bed.Inspect(bed.Tag("g2")));
        Assert.False(Directory.Exists(Path.Combine(bed.Workspaces, bed.Name("g2"))), "a rejected create leaves no workspace behind");

        // A CPU-only container is not affected by the GPU quota.
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("cpu")} -Image {Img} -GpuCount 0").Errors);

        var allocations = bed.Run("Get-Ds01GpuAllocation").Objects<Ds01GpuAllocation>().ToList();
        var mine = Assert.Single(allocations, a => a.Container == bed.Name("g1"));
        Assert.Equal(("0", GpuAllocationState.Allocated, 1.0), (mine.Slots, mine.State, mine.Weight));

        var events = File.ReadAllLines(bed.Config.EventLogFile).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event_type").GetString()).ToList();
        Assert.Contains("gpu.allocate", events);
        Assert.Contains("gpu.reject", events);
    }

    [Fact]
    public void A_specific_slot_can_be_asked_for_and_a_busy_or_unknown_one_is_refused()
    {
        using var bed = new DockerTestBed(simulatedGpus: 4, extraDefaults: "gpu_limit: unlimited");
        var r = bed.Run($"New-Ds01Container {bed.Name("s2")} -Image {Img} -Gpu 2 -PassThru");
        Assert.Empty(r.Errors);
        Assert.Equal("2", Assert.IsType<Ds01Container>(Assert.Single(r.Output).BaseObject).Gpu);
        var busy = bed.Run($"New-Ds01Container {bed.Name("s2b")} -Image {Img} -Gpu 2").SingleError();
        Assert.Equal(ErrorCategory.ResourceUnavailable, busy.CategoryInfo.Category);
        var unknown = bed.Run($"New-Ds01Container {bed.Name("s9")} -Image {Img} -Gpu 9").SingleError();
        Assert.Equal(ErrorCategory.InvalidArgument, unknown.CategoryInfo.Category);
        var contradiction = bed.Run($"New-Ds01Container {bed.Name("s1")} -Image {Img} -Gpu 1 -GpuCount 0").SingleError();
        Assert.Equal((ErrorCategory.InvalidArgument, "GpuSlotWithCount"), (contradiction.CategoryInfo.Category, FirstErrorId(contradiction)));
        Assert.Null(bed.Inspect(bed.Tag("s1")));
    }

    [Fact]
    public void Without_nvidia_smi_or_a_static_list_a_gpu_request_is_a_clear_error_and_cpu_only_still_works()
    {
        using var bed = new DockerTestBed();
        var env = bed.Env;
        env["DS01_NVIDIA_SMI"] = "/nonexistent/nvidia-smi";
        var e = PsEngine.Run($"New-Ds01Container {bed.Name("nogpu")} -Image {Img}", env).SingleError();
        Assert.Equal((ErrorCategory.NotInstalled, "GpuInventoryUnavailable"), (e.CategoryInfo.Category, FirstErrorId(e)));
        Assert.Contains("gpu-config.yaml", e.ErrorDetails?.RecommendedAction ?? e.Exception.Message);
        Assert.Null(bed.Inspect(bed.Tag("nogpu")));
        Assert.Empty(PsEngine.Run($"New-Ds01Container {bed.Name("nogpu")} -Image {Img} -GpuCount 0", env).Errors);
    }

    [Fact]
    public void No_free_slot_is_ResourceUnavailable_naming_the_holders_and_Wait_times_out()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2, extraDefaults: "gpu_limit: unlimited\nmax_gpus_per_container: unlimited");
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("a")} -Image {Img}; New-Ds01Container {bed.Name("b")} -Image {Img}").Errors);
        var e = bed.Run($"New-Ds01Container {bed.Name("c")} -Image {Img}").SingleError();
        Assert.Equal((ErrorCategory.ResourceUnavailable, "NoFreeGpu"), (e.CategoryInfo.Category, FirstErrorId(e)));
        Assert.Contains(bed.Tag("a"), e.Exception.Message);

        var waited = bed.Run($"New-Ds01Container {bed.Name("c")} -Image {Img} -Wait -TimeoutSec 2").SingleError();
        Assert.Equal((ErrorCategory.OperationTimeout, "GpuWaitTimeout"), (waited.CategoryInfo.Category, FirstErrorId(waited)));
        Assert.Null(bed.Inspect(bed.Tag("c")));

        var slots = bed.Run("Get-Ds01Gpu").Objects<Ds01GpuSlot>().ToList();
        Assert.Equal(new[] { "0", "1" }, slots.Select(s => s.Slot));
        Assert.All(slots, s => Assert.Equal(GpuSlotState.Allocated, s.State));
        Assert.Equal(new[] { bed.Name("a"), bed.Name("b") }, slots.Select(s => s.Container));
    }

    [Fact]
    public void A_stopped_container_holds_its_gpu_until_the_hold_expires_and_cannot_start_once_it_was_given_away()
    {
        // 0.05 minutes = 3 s of hold after stop.
        using var bed = new DockerTestBed(simulatedGpus: 1, extraDefaults: "gpu_hold_after_stop_minutes: 0.05\ngpu_limit: unlimited");
        var a = bed.Name("holder");
        var b = bed.Name("taker");
        var stop = bed.Run($"New-Ds01Container {a} -Image {Img}; Start-Ds01Container {a}; Stop-Ds01Container {a} -Kill -PassThru");
        Assert.Empty(stop.Errors);
        var stopped = Assert.IsType<Ds01Container>(Assert.Single(stop.Output).BaseObject);
        Assert.Equal(stopped.StoppedAt!.Value.AddMinutes(0.05), stopped.GpuHoldExpiresAt);

        var held = Assert.Single(bed.Run("Get-Ds01Gpu").Objects<Ds01GpuSlot>());
        Assert.Equal((GpuSlotState.Held, a), (held.State, held.Container));
        Assert.NotNull(held.HoldExpiresAt);
        var busy = bed.Run($"New-Ds01Container {b} -Image {Img}").SingleError();
        Assert.Equal(ErrorCategory.ResourceUnavailable, busy.CategoryInfo.Category);

        // Restarting inside the hold keeps the same GPU.
        Assert.Empty(bed.Run($"Start-Ds01Container {a}; Stop-Ds01Container {a} -Kill").Errors);

        var until = held.HoldExpiresAt!.Value.AddSeconds(4);
        while (DateTimeOffset.UtcNow < until) Thread.Sleep(250);
        Assert.Equal(GpuSlotState.Free, Assert.Single(bed.Run("Get-Ds01Gpu").Objects<Ds01GpuSlot>()).State);

        Assert.Empty(bed.Run($"New-Ds01Container {b} -Image {Img}").Errors);
        var lost = bed.Run($"Start-Ds01Container {a}").SingleError();
        Assert.Equal((ErrorCategory.ResourceUnavailable, "GpuSlotTaken"), (lost.CategoryInfo.Category, FirstErrorId(lost)));
        Assert.Contains(b, lost.Exception.Message);
        Assert.Contains("Remove this container", lost.ErrorDetails.RecommendedAction);
        Assert.False(bed.Inspect(bed.Tag("holder"))!.State!.Running);

        // Remove frees at once: the old container can start again.
        Assert.Empty(bed.Run($"Remove-Ds01Container {b} -Force").Errors);
        Assert.Empty(bed.Run($"Start-Ds01Container {a}").Errors);
        Assert.True(bed.Inspect(bed.Tag("holder"))!.State!.Running);
    }

    [Fact]
    public void A_waiting_request_is_visible_in_the_queue_and_gets_the_gpu_when_it_frees()
    {
        using var bed = new DockerTestBed(simulatedGpus: 1, extraDefaults: "gpu_hold_after_stop_minutes: 0\ngpu_limit: unlimited");
        var a = bed.Name("first");
        var b = bed.Name("waiter");
        Assert.Empty(bed.Run($"New-Ds01Container {a} -Image {Img}").Errors);

        using var waiter = Ds01Cli.Start(bed.Env, null, "-c", $"New-Ds01Container {b} -Image {Img} -Wait -TimeoutSec 60 -PassThru | ForEach-Object Gpu");
        Ds01GpuAllocation? queued = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (queued is null && DateTime.UtcNow < deadline)
        {
            queued = bed.Run("Get-Ds01GpuAllocation -Queued").Objects<Ds01GpuAllocation>().FirstOrDefault(q => q.Container == b);
            if (queued is null) Thread.Sleep(200);
        }
        if (queued is null)
        {
            var early = Ds01Cli.Wait(waiter, new[] { "waiter" });
            Assert.Fail($"never queued; waiter exit {early.ExitCode}: {early.Err}");
        }
        Assert.Equal(GpuAllocationState.Queued, queued!.State);
        Assert.Equal(50, queued.Priority);

        Assert.Empty(bed.Run($"Remove-Ds01Container {a} -Force").Errors);
        var result = Ds01Cli.Wait(waiter, new[] { "waiter" });
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Equal("0", result.Out.Trim());
        Assert.Empty(bed.Run("Get-Ds01GpuAllocation -Queued").Output);
        var types = File.ReadAllLines(bed.Config.EventLogFile).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event_type").GetString()).ToList();
        Assert.Contains("gpu.queue", types);
        Assert.True(types.LastIndexOf("gpu.allocate") > types.IndexOf("gpu.queue"));
    }

    [Fact]
    public void Eight_processes_racing_for_four_gpus_for_30_rounds_never_share_a_slot_and_every_loser_gets_NoFreeGpu()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("DS01_RACE_ROUNDS"), out var n) ? n : 30;
        const int racers = 8, gpus = 4;
        using var bed = new DockerTestBed(simulatedGpus: gpus, extraDefaults: "gpu_limit: unlimited");
        var gate = Path.Combine(bed.Config.Root, "race");
        Directory.CreateDirectory(gate);
        // A project image with the owner built in (the fast path): a round costs 8 placements, not 8 image set-ups.
        var project = $"race{bed.RunId}";
        Assert.Empty(bed.Run($"Build-Ds01Image -Project {project} -BaseImage {Img}").Errors);
        // The same 8 processes race every round (start-up is paid once): each waits for the round's go file, creates,
        // and writes its outcome (to a temporary name first, so the test never reads half a file).
        var script = "foreach ($round in 0..([int]$env:DS01_RACE_ROUNDS - 1)) { " +
            "while (-not (Test-Path \"$env:DS01_RACE_GATE/go-$round\")) { Start-Sleep -Milliseconds 10 }; " +
            "$name = \"r${round}x$($env:DS01_RACER)-$($env:DS01_RUN)\"; " +
            $"try {{ New-Ds01Container $name -Project {project} -GpuCount 1 -ErrorAction Stop | Out-Null; $r = 'ok' }} " +
            "catch { $r = \"$($_.FullyQualifiedErrorId.Split(',')[0])|$($_.CategoryInfo.Category)|$($_.Exception.Message)\" }; " +
            "$f = \"$env:DS01_RACE_GATE/res-$round-$($env:DS01_RACER)\"; Set-Content \"$f.tmp\" $r; Move-Item \"$f.tmp\" $f }";
        var procs = Enumerable.Range(0, racers).Select(i =>
        {
            var env = bed.Env;
            env["DS01_RACE_ROUNDS"] = rounds.ToString();
            env["DS01_RACE_GATE"] = gate;
            env["DS01_RACER"] = i.ToString();
            env["DS01_RUN"] = bed.RunId;
            return Ds01Cli.Start(env, null, "-c", script);
        }).ToList();
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                File.WriteAllText(Path.Combine(gate, $"go-{round}"), "");
                var files = Enumerable.Range(0, racers).Select(i => Path.Combine(gate, $"res-{round}-{i}")).ToList();
                var deadline = DateTime.UtcNow.AddSeconds(180);
                while (!files.All(File.Exists) && DateTime.UtcNow < deadline)
                {
                    // A racer done with the last round exits: only one gone without its answer is a failure.
                    var dead = procs.Where((p, i) => p.HasExited && !File.Exists(files[i])).FirstOrDefault();
                    if (dead is not null) Assert.Fail($"a racer exited in round {round}: {dead.StandardError.ReadToEnd()}");
                    Thread.Sleep(20);
                }
                var results = files.Select(f => File.Exists(f) ? File.ReadAllText(f).Trim() : "missing").ToList();
                var winners = results.Count(r => r == "ok");
                Assert.True(winners == gpus, $"round {round}: {winners} creates succeeded; {string.Join(" | ", results)}");
                Assert.All(results.Where(r => r != "ok"), r => Assert.StartsWith("NoFreeGpu|ResourceUnavailable|", r));

                var mine = bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
                    .Where(c => c.Names.Any(x => x.Contains(bed.RunId, StringComparison.Ordinal))).ToList();
                var slots = mine.Select(c => c.Labels["ds01.gpu.slots"]).ToList();
                Assert.Equal(gpus, slots.Count);
                Assert.Equal(gpus, slots.Distinct().Count());
                // Cleared directly (not the cost under test), so the next round starts with 4 free slots again.
                foreach (var c in mine) bed.Engine.RemoveContainerAsync(c.ID, force: true, CancellationToken.None).GetAwaiter().GetResult();
            }
            foreach (var p in procs) Assert.True(p.WaitForExit(60_000), "a racer did not finish");
        }
        finally
        {
            foreach (var p in procs)
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.Dispose();
            }
        }
    }

    [Fact]
    public void Starting_a_container_whose_hold_expired_counts_against_the_quota_again()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2, extraDefaults: "gpu_limit: 1\ngpu_hold_after_stop_minutes: 0.02");
        var a = bed.Name("qa");
        Assert.Empty(bed.Run($"New-Ds01Container {a} -Image {Img} -Gpu 0; Start-Ds01Container {a}; Stop-Ds01Container {a} -Kill").Errors);
        Thread.Sleep(TimeSpan.FromSeconds(3));
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("qb")} -Image {Img} -Gpu 1").Errors);
        var e = bed.Run($"Start-Ds01Container {a}").SingleError();
        Assert.Equal((ErrorCategory.QuotaExceeded, "GpuQuotaExceeded"), (e.CategoryInfo.Category, FirstErrorId(e)));
        Assert.False(bed.Inspect(bed.Tag("qa"))!.State!.Running);
    }

    [Fact]
    public void A_waiter_for_a_busy_slot_does_not_block_a_free_one()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2, extraDefaults: "gpu_limit: unlimited");
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("busy0")} -Image {Img} -Gpu 0").Errors);
        using var waiter = Ds01Cli.Start(bed.Env, null, "-c", $"New-Ds01Container {bed.Name("wants0")} -Image {Img} -Gpu 0 -Wait -TimeoutSec 20");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!bed.Run("Get-Ds01GpuAllocation -Queued").Output.Any() && DateTime.UtcNow < deadline) Thread.Sleep(200);
        Assert.NotEmpty(bed.Run("Get-Ds01GpuAllocation -Queued").Output);

        var r = bed.Run($"New-Ds01Container {bed.Name("any")} -Image {Img} -PassThru");
        Assert.Empty(r.Errors);
        Assert.Equal("1", Assert.IsType<Ds01Container>(Assert.Single(r.Output).BaseObject).Gpu);
        waiter.Kill(entireProcessTree: true);
    }

    [Fact]
    public void Gpus_used_by_containers_made_outside_Ds01_are_respected()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2, extraDefaults: "gpu_limit: unlimited");
        // As DS01 attached several MIG devices: the nvidia runtime reads NVIDIA_VISIBLE_DEVICES (here: GPU 1's UUID).
        var tag = bed.Tag("foreign");
        var (code, _, err) = DockerTestBed.DockerCli("run", "-d", "--init", "--name", tag, "--label", $"aime.mlc={Environment.UserName}",
            "--label", $"aime.mlc.USER={Environment.UserName}", "-e", "NVIDIA_VISIBLE_DEVICES=GPU-00000000-0000-4000-8000-000000000001",
            Img, "sleep", "600");
        Assert.True(code == 0, err);
        var busy = bed.Run($"New-Ds01Container {bed.Name("mine")} -Image {Img} -Gpu 1").SingleError();
        Assert.Equal(ErrorCategory.ResourceUnavailable, busy.CategoryInfo.Category);
        Assert.Equal("1", Assert.Single(bed.Run("Get-Ds01Gpu -State Allocated").Objects<Ds01GpuSlot>()).Slot);

        // Stopped, it holds nothing; once Ds01 gives GPU 1 away, starting it again is refused.
        Assert.Equal(0, DockerTestBed.DockerCli("stop", "-t", "1", tag).Code);
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("mine")} -Image {Img} -Gpu 1").Errors);
        var lost = bed.Run($"Start-Ds01Container {bed.Name("foreign")}").SingleError();
        Assert.Equal("GpuSlotTaken", FirstErrorId(lost));
    }
}

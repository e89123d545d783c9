using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// Faults of the machine around Ds01 (issue 13): the log directory broken three ways, nvidia-smi slow or hung,
/// and 16 processes churning at once. Each test is named for the fault and the outcome; scripts/reliability-
/// table.sh turns their results into README's reliability table.
/// </summary>
[Collection("engine")]
public class ReliabilityTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args)!;
        Assert.True(p.WaitForExit(30_000), $"{program} did not finish");
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {p.ExitCode}");
    }

    /// <summary>A create with the log directory in <paramref name="breakIt"/>'s state: it works and warns.</summary>
    private static void CreateWarnsThatTheEventWasNotWritten(Action<DockerTestBed> breakIt, Action<DockerTestBed>? repair = null)
    {
        using var bed = new DockerTestBed();
        try
        {
            breakIt(bed);
            var r = bed.Run($"New-Ds01Container {bed.Name("logfault")} -Image {Img} -GpuCount 0 -PassThru");
            Assert.Empty(r.Errors);
            Assert.Single(r.Output);
            Assert.NotNull(bed.Inspect(bed.Tag("logfault")));
            Assert.Contains(r.Warnings, w => w.Contains("container.create was not written", StringComparison.Ordinal));
            // And the container can still be removed (that event is lost too, with a warning).
            var removed = bed.Run($"Remove-Ds01Container {bed.Name("logfault")} -Force");
            Assert.Empty(removed.Errors);
            Assert.Null(bed.Inspect(bed.Tag("logfault")));
        }
        finally
        {
            repair?.Invoke(bed);
        }
    }

    private static void Unmount(DockerTestBed bed)
    {
        using var p = Process.Start("umount", [bed.Config.LogDir])!;
        p.WaitForExit(30_000);
    }

    [Fact]
    public void A_read_only_log_directory_leaves_creates_working_with_a_warning_that_events_were_not_written() =>
        CreateWarnsThatTheEventWasNotWritten(
            bed => Run("mount", "-t", "tmpfs", "-o", "ro,size=64k,mode=0755", "tmpfs", bed.Config.LogDir), Unmount);

    /// <summary>Room left in the log's last tmpfs page: less than any event line (the envelope alone is longer), more than 0.</summary>
    private const int RoomInLastPage = 120;

    [Fact]
    public void A_full_log_file_system_leaves_creates_working_with_a_warning_and_no_partial_line()
    {
        byte[]? seeded = null;
        CreateWarnsThatTheEventWasNotWritten(bed =>
        {
            Run("mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", bed.Config.LogDir);
            // Whole event lines ending RoomInLastPage bytes short of a page: tmpfs has that page already, so a write(2)
            // of a longer line succeeds in part (a short write) once the file system is full, and the rest is ENOSPC.
            seeded = SeedLines(4096 - RoomInLastPage);
            File.WriteAllBytes(bed.Config.EventLogFile, seeded);
            // Fill every other page; tmpfs refuses the rest with ENOSPC.
            using var fill = new FileStream(Path.Combine(bed.Config.LogDir, "fill"), FileMode.Create);
            try { while (true) { fill.Write(new byte[4096]); fill.Flush(); } }
            catch (IOException) { }
        }, bed =>
        {
            try
            {
                // Nothing half-written: the log is as seeded (every line whole JSON, ending in '\n'), not seeded plus a fragment.
                var log = File.ReadAllBytes(bed.Config.EventLogFile);
                Assert.Equal((byte)'\n', log[^1]);
                foreach (var line in System.Text.Encoding.UTF8.GetString(log).Split('\n')[..^1])
                    Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(line).RootElement.GetProperty("event_type").GetString()), line);
                Assert.Equal(Convert.ToHexString(seeded!), Convert.ToHexString(log));
            }
            finally { Unmount(bed); }
        });
    }

    /// <summary>Whole event lines of exactly <paramref name="total"/> bytes.</summary>
    private static byte[] SeedLines(int total)
    {
        static string Line(int pad) =>
            $"{{\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"event_type\":\"test.seed\",\"schema_version\":\"1\",\"user\":\"seed\",\"source\":\"test\",\"details\":{{\"pad\":\"{new string('p', pad)}\"}}}}\n";
        var text = new System.Text.StringBuilder();
        while (total - text.Length > 2 * Line(1000).Length) text.Append(Line(1000));
        text.Append(Line(total - text.Length - Line(0).Length));
        Assert.Equal(total, text.Length);
        return System.Text.Encoding.ASCII.GetBytes(text.ToString());
    }

    [Fact]
    public void A_directory_in_place_of_the_log_file_leaves_creates_working_with_a_warning() =>
        CreateWarnsThatTheEventWasNotWritten(bed => Directory.CreateDirectory(bed.Config.EventLogFile));

    /// <summary>A stand-in nvidia-smi that marks each start, sleeps, then prints a real H100's answer.</summary>
    private static string SleepySmi(DockerTestBed bed, int seconds)
    {
        var fixture = RepoPaths.NvidiaSmiFixture("h100-80gb-mig-disabled");
        var query = Path.Combine(bed.Config.Root, "query.csv");
        File.WriteAllText(query, "0, GPU-1223b8ad-b7aa-c6a2-1c05-fb85ef1e2a3d, NVIDIA H100 80GB HBM3, 81559, 0, Disabled\n");
        var smi = Path.Combine(bed.Config.Root, "nvidia-smi");
        File.WriteAllText(smi, $"#!/bin/sh\ntouch '{bed.Config.Root}/smi-started'\nsleep {seconds}\n" +
            $"case \"$1\" in -L) cat '{fixture}/smi-L.txt' ;; *) cat '{query}' ;; esac\n");
        File.SetUnixFileMode(smi, (UnixFileMode)Convert.ToInt32("755", 8));
        // No static list: the slots come from nvidia-smi; simulated attach (no NVIDIA runtime here).
        bed.Config.Write("gpu-config.yaml", "attach: simulated\nlock_timeout_seconds: 30\n");
        return smi;
    }

    /// <summary>Starts a GPU create with <paramref name="smi"/> and waits until nvidia-smi runs; the lock is free meanwhile.</summary>
    private static Process CreateWhileNvidiaSmiRuns(DockerTestBed bed, string smi, string name)
    {
        var env = bed.Env;
        env[GpuInventory.NvidiaSmiVariable] = smi;
        var create = Ds01Cli.Start(env, null, "-c", $"New-Ds01Container {name} -Image {Img} -GpuCount 1");
        var started = Path.Combine(bed.Config.Root, "smi-started");
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!File.Exists(started) && !create.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.True(File.Exists(started), "nvidia-smi was never started");
        // The inventory is read before the allocation lock is taken: another user's create is not held up by it.
        using (AllocationLock.Acquire(Path.Combine(bed.Config.StateDir, "gpu-allocation.lock"), TimeSpan.FromSeconds(2))) { }
        return create;
    }

    [Fact]
    public void A_slow_nvidia_smi_delays_a_create_without_holding_the_allocation_lock_and_the_create_succeeds()
    {
        using var bed = new DockerTestBed();
        using var create = CreateWhileNvidiaSmiRuns(bed, SleepySmi(bed, 4), bed.Name("slow"));
        var r = Ds01Cli.Wait(create, new[] { "slow" });
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal("0", bed.Inspect(bed.Tag("slow"))!.Config!.Labels["ds01.gpu.slots"]);
    }

    [Fact]
    public void A_hung_nvidia_smi_times_out_with_GpuInventoryUnavailable_without_holding_the_lock_and_creates_nothing()
    {
        using var bed = new DockerTestBed();
        using var create = CreateWhileNvidiaSmiRuns(bed, SleepySmi(bed, 600), bed.Name("hung"));
        var r = Ds01Cli.Wait(create, new[] { "hung" });
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("id: GpuInventoryUnavailable", r.Err);
        Assert.Contains("category: OperationTimeout", r.Err);
        Assert.Contains("did not finish within 30 s", r.Err);
        Assert.Null(bed.Inspect(bed.Tag("hung")));
        Assert.False(Directory.Exists(Path.Combine(bed.Workspaces, bed.Name("hung"))), "a workspace was made");
    }

    [Fact]
    public void Sixteen_processes_creating_starting_stopping_and_removing_at_once_keep_every_invariant()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("DS01_CHURN_SECONDS"), out var s) ? s : 20;
        const int workers = 16, gpus = 4;
        using var bed = new DockerTestBed(simulatedGpus: gpus,
            extraDefaults: "gpu_limit: unlimited\nmax_gpus_per_container: unlimited\ngpu_hold_after_stop_minutes: 0\nmax_containers: 1000");
        // The product's default lock_timeout_seconds, not the bed's: the default is what must cover this contention.
        var gpuConfig = Path.Combine(bed.Config.ConfigDir, "gpu-config.yaml");
        File.WriteAllLines(gpuConfig, File.ReadAllLines(gpuConfig).Where(l => !l.StartsWith("lock_timeout_seconds:", StringComparison.Ordinal)));
        var project = $"churn{bed.RunId}";
        Assert.Empty(bed.Run($"Build-Ds01Image -Project {project} -BaseImage {Img}").Errors); // the fast path, as users run
        var gate = Path.Combine(bed.Config.Root, "churn");
        Directory.CreateDirectory(gate);
        // Each worker loops create → start → stop → remove; every other container asks for a GPU. The last one is
        // left in place for the label check. Errors are printed as "id|category" and checked below.
        // All 16 start together once each has started up (on a loaded machine that takes a while), then run for the window.
        var script = "New-Item -ItemType File \"$env:DS01_GATE/ready-$($env:DS01_WORKER)\" | Out-Null; " +
            "while (-not (Test-Path \"$env:DS01_GATE/go\")) { Start-Sleep -Milliseconds 20 }; " +
            "$until = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + [int]$env:DS01_SECONDS; " +
            "$i = 0; while ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds() -lt $until) { " +
            "$n = \"c$($env:DS01_WORKER)x$i-$($env:DS01_RUN)\"; $g = $i % 2; $i++; " +
            "try { New-Ds01Container $n -Project " + project + " -GpuCount $g -ErrorAction Stop | Out-Null; " +
            "Start-Ds01Container $n -ErrorAction Stop; Stop-Ds01Container $n -Kill -ErrorAction Stop; " +
            "if ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds() -lt $until) { Remove-Ds01Container $n -Force -ErrorAction Stop } } " +
            "catch { \"ERR $($_.FullyQualifiedErrorId.Split(',')[0])|$($_.CategoryInfo.Category)\" } }; \"DONE $i\"; exit 0"; // a caught error would make ds01 exit 1
        var procs = Enumerable.Range(0, workers).Select(w =>
        {
            var env = bed.Env;
            env["DS01_WORKER"] = w.ToString();
            env["DS01_RUN"] = bed.RunId;
            env["DS01_GATE"] = gate;
            env["DS01_SECONDS"] = seconds.ToString();
            return Ds01Cli.Start(env, null, "-c", script);
        }).ToList();
        var ready = DateTime.UtcNow.AddSeconds(600);
        while (Directory.GetFiles(gate, "ready-*").Length < workers && procs.All(p => !p.HasExited) && DateTime.UtcNow < ready) Thread.Sleep(100);
        File.WriteAllText(Path.Combine(gate, "go"), "");

        // Meanwhile: no GPU slot is ever on two live containers (read from dockerd's own list, one snapshot each time).
        var samples = 0;
        while (procs.Any(p => !p.HasExited))
        {
            var live = bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
                .Where(c => c.Names.Any(n => n.Contains(bed.RunId, StringComparison.Ordinal)) && c.State is "running" or "created")
                .Where(c => c.Labels.TryGetValue("ds01.gpu.slots", out var slot) && slot.Length > 0)
                .Select(c => (Name: c.Names[0], Slot: c.Labels["ds01.gpu.slots"])).ToList();
            var shared = live.GroupBy(c => c.Slot).Where(g => g.Count() > 1).ToList();
            Assert.True(shared.Count == 0, "slot on two containers: " + string.Join("; ", shared.Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}")));
            samples++;
            Thread.Sleep(250);
        }

        // The allocator fails closed: no free slot or a waiter ahead are the only errors a create may give here. A lock
        // wait past the default lock_timeout_seconds (AllocationLockTimeout) is not: ordinary contention must fit in it.
        var allowed = new HashSet<string> { "NoFreeGpu|ResourceUnavailable", "GpuQueuedAhead|ResourceUnavailable" };
        var cycles = 0;
        foreach (var (p, w) in procs.Select((p, w) => (p, w)))
        {
            var r = Ds01Cli.Wait(p, new[] { $"worker {w}" });
            Assert.True(r.ExitCode == 0, $"worker {w} exited {r.ExitCode}: {r.Err} {r.Out}");
            var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.StartsWith("DONE ", lines[^1]);
            cycles += int.Parse(lines[^1][5..]);
            var unexpected = lines.Where(l => l.StartsWith("ERR ", StringComparison.Ordinal) && !allowed.Contains(l[4..])).ToList();
            Assert.True(unexpected.Count == 0, $"worker {w}: {string.Join("; ", unexpected)} {r.Err}");
            p.Dispose();
        }
        Assert.True(cycles >= workers, $"only {cycles} cycles ran in {seconds} s");
        Assert.True(samples > 0);

        // Every container left is labelled for its owner, and every event line is one whole JSON event.
        var left = bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
            .Where(c => c.Names.Any(n => n.Contains(bed.RunId, StringComparison.Ordinal))).ToList();
        Assert.All(left, c =>
        {
            Assert.Equal(Environment.UserName, c.Labels["ds01.user"]);
            Assert.Equal(Environment.UserName, c.Labels["aime.mlc"]);
            Assert.EndsWith($"._.{bed.Uid}", c.Names[0]);
        });
        var events = File.ReadAllLines(bed.Config.EventLogFile);
        Assert.NotEmpty(events);
        foreach (var line in events)
        {
            var e = JsonDocument.Parse(line).RootElement;
            Assert.False(string.IsNullOrEmpty(e.GetProperty("event_type").GetString()));
            Assert.True(e.GetProperty("timestamp").TryGetDateTimeOffset(out _), line);
        }
    }
}

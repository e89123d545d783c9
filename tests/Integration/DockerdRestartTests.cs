using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Ds01.Core.Maintenance;
using Ds01.Core.Naming;
using Xunit;
using Xunit.Abstractions;

namespace Ds01.Tests.Integration;

/// <summary>
/// dockerd SIGKILLed in the middle of a series of Ds01 operations and restarted on the same data root (issue 13),
/// on a daemon of this test's own (<see cref="PrivateDockerd"/>), never the suite's. Killed between operations, as
/// a create's request arrives, and after dockerd has a create's request but before its answer is out
/// (<see cref="DockerdKillSwitch"/>). Every operation against the dead daemon must fail at once with a ConnectionError
/// record; after the restart no container is half-made (each is whole and labelled for its owner, or gone, or
/// reported and removed by Invoke-Ds01Maintenance), no slot is on two containers, the next allocation proceeds and
/// every event line parses.
/// </summary>
[Collection("engine")]
public class DockerdRestartTests
{
    private const string Img = DockerTestBed.BusyboxImage;
    /// <summary>A refused connection is immediate; far below DS01_DOCKER_TIMEOUT's 30 s, so a hang cannot pass.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(10);

    private readonly ITestOutputHelper _out;

    public DockerdRestartTests(ITestOutputHelper output) => _out = output;

    private static PsResult Ds01(DockerTestBed bed, string host, string script)
    {
        var env = bed.Env;
        env["DOCKER_HOST"] = host;
        return PsEngine.Run(script, env);
    }

    /// <summary>The one error record of an operation that met a dead daemon, within <see cref="Prompt"/>.</summary>
    private ErrorRecord FailsWithConnectionError(DockerTestBed bed, string host, string script)
    {
        var clock = Stopwatch.StartNew();
        var r = Ds01(bed, host, script);
        clock.Stop();
        _out.WriteLine($"{script}: {clock.Elapsed.TotalMilliseconds:0} ms, {string.Join(" | ", r.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e.Exception.Message}"))}");
        var e = r.SingleError();
        Assert.Equal(("DockerUnreachable", ErrorCategory.ConnectionError), (e.FullyQualifiedErrorId.Split(',')[0], e.CategoryInfo.Category));
        Assert.Contains("Cannot reach the Docker engine", e.Exception.Message);
        Assert.DoesNotContain("Sequence contains no elements", e.Exception.Message); // the parser's words, not the fault's
        Assert.Contains("dockerd is running", e.ErrorDetails?.RecommendedAction ?? "");
        Assert.Empty(r.Output);
        Assert.True(clock.Elapsed < Prompt, $"'{script}' took {clock.Elapsed.TotalSeconds:0.0} s against a dead dockerd");
        return e;
    }

    private static void Ok(PsResult r, string what) =>
        Assert.True(r.Errors.Count == 0, $"{what}: {string.Join("; ", r.Errors.Select(e => e.Exception.Message))}");

    private static List<Docker.DotNet.Models.ContainerListResponse> Mine(DockerTestBed bed) =>
        bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
            .Where(c => c.Names.Any(n => n.Contains(bed.RunId, StringComparison.Ordinal))).ToList();

    private static string? Slot(DockerTestBed bed, string name) =>
        Mine(bed).SingleOrDefault(c => c.Names[0] == "/" + bed.Tag(name)) is { } c && c.Labels.TryGetValue(Labels.GpuSlots, out var slot) ? slot : null;

    [Fact]
    public void A_dockerd_killed_between_operations_and_during_creates_fails_each_operation_with_ConnectionError_and_after_its_restart_nothing_is_half_made()
    {
        using var dockerd = new PrivateDockerd();
        dockerd.Start();
        var host = dockerd.Host!;
        // Four simulated GPUs: one held by a running container, two by the creates whose answers were lost (a
        // reservation fails closed until the container appears or it ages out), one for the next create.
        using var bed = new DockerTestBed(simulatedGpus: 4, dockerHost: host,
            extraDefaults: "gpu_limit: unlimited\nmax_gpus_per_container: unlimited\ngpu_hold_after_stop_minutes: 0",
            // A create reported as failed whose container exists is an orphan at once, for the maintenance step below.
            extraLimits: "maintenance:\n  never_started_hours: 0\n");
        var project = $"kill{bed.RunId}";
        Ok(Ds01(bed, host, $"Build-Ds01Image -Project {project} -BaseImage {Img}"), "build"); // the fast path: one create request
        var reservations = Path.Combine(bed.Config.StateDir, "gpu-reservations");
        string[] Reserved() => Directory.Exists(reservations)
            ? Directory.GetFiles(reservations, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).ToArray() : [];

        Ok(Ds01(bed, host, $"New-Ds01Container {bed.Name("a1")} -Project {project} -GpuCount 1; Start-Ds01Container {bed.Name("a1")}"), "a1");
        var a1Slot = Slot(bed, "a1");
        Assert.False(string.IsNullOrEmpty(a1Slot));

        // 1. Killed between operations: each of them fails at once, and the create leaves no reservation behind.
        dockerd.Kill();
        FailsWithConnectionError(bed, host, "Get-Ds01Container");
        FailsWithConnectionError(bed, host, $"New-Ds01Container {bed.Name("a2")} -Project {project} -GpuCount 1");
        FailsWithConnectionError(bed, host, $"Start-Ds01Container {bed.Name("a1")}");
        FailsWithConnectionError(bed, host, $"Stop-Ds01Container {bed.Name("a1")}");
        FailsWithConnectionError(bed, host, $"Remove-Ds01Container {bed.Name("a1")} -Force");
        Assert.Empty(Reserved());
        dockerd.Start();
        var back = Ds01(bed, host, "Get-Ds01Container");
        Ok(back, "list after the restart");
        Assert.Contains(back.Output, o => (string)o.Properties["Name"].Value == bed.Name("a1"));
        Ok(Ds01(bed, host, $"Start-Ds01Container {bed.Name("a1")}"), "a1 restarted");
        Assert.Null(Slot(bed, "a2"));

        // 2. Killed as the create's request arrives: dockerd never sees it. The creator cannot tell that from a lost
        // answer, so its slot stays reserved (GpuReservations) and nothing else can be handed it meanwhile.
        using (var arriving = new DockerdKillSwitch(Path.Combine(dockerd.WorkDir, "kill-on-arrival.sock"), dockerd.SocketPath,
                   $"/containers/create?name={bed.Name("b1")}", forwardFirst: false, TimeSpan.Zero, dockerd.Kill))
        {
            FailsWithConnectionError(bed, arriving.Host, $"New-Ds01Container {bed.Name("b1")} -Project {project} -GpuCount 1");
            Assert.True(arriving.Fired, "the create request never came");
        }
        Assert.Null(dockerd.Pid);
        Assert.Equal(new[] { bed.Tag("b1") }, Reserved());
        FailsWithConnectionError(bed, host, $"Get-Ds01Container {bed.Name("a1")}");
        dockerd.Start();
        Assert.Null(Slot(bed, "b1"));

        // 3. Killed after dockerd has the request, its answer withheld: the container may exist though its creator was
        // told the create failed. It must then be whole, and maintenance reports and removes it.
        using (var answered = new DockerdKillSwitch(Path.Combine(dockerd.WorkDir, "kill-after-create.sock"), dockerd.SocketPath,
                   $"/containers/create?name={bed.Name("b2")}", forwardFirst: true, TimeSpan.FromSeconds(2), dockerd.Kill))
        {
            FailsWithConnectionError(bed, answered.Host, $"New-Ds01Container {bed.Name("b2")} -Project {project} -GpuCount 1");
            Assert.True(answered.Fired, "the create request never came");
        }
        Assert.Null(dockerd.Pid);
        dockerd.Start();
        var b2Made = Slot(bed, "b2") is not null;
        _out.WriteLine($"b2 after the restart: {(b2Made ? "made by dockerd before it died" : "not made")}; reservations: {string.Join(", ", Reserved())}");

        // Nothing half-made: every container is whole and labelled for its owner.
        var left = Mine(bed);
        Assert.All(left, c =>
        {
            Assert.Equal(Environment.UserName, c.Labels[Labels.User]);
            Assert.Equal(Environment.UserName, c.Labels[Labels.Aime]);
            Assert.EndsWith($"._.{bed.Uid}", c.Names[0]);
            Assert.Equal(project, c.Labels[Labels.Project]);
            Assert.False(string.IsNullOrEmpty(c.Labels[Labels.GpuSlots]), $"{c.Names[0]} has no GPU label");
        });
        Assert.Equal(b2Made ? 2 : 1, left.Count);

        // The allocation proceeds, on the one slot neither a1 nor the lost creates' reservations hold.
        Ok(Ds01(bed, host, $"New-Ds01Container {bed.Name("c1")} -Project {project} -GpuCount 1; Start-Ds01Container {bed.Name("c1")}"), "c1");
        var c1Slot = Slot(bed, "c1");
        Assert.NotNull(c1Slot);
        var reservedSlots = Directory.GetFiles(reservations, "*.json")
            .SelectMany(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("slots").EnumerateArray().Select(x => x.GetString())).ToList();
        Assert.DoesNotContain(c1Slot, reservedSlots);
        var held = Mine(bed).Where(c => c.State is "running" or "created").Select(c => (Name: c.Names[0], Slot: c.Labels[Labels.GpuSlots])).ToList();
        Assert.True(held.Select(h => h.Slot).Distinct().Count() == held.Count, "a slot on two containers: " + string.Join(", ", held));

        // Maintenance reports the container whose creator was told it failed (created, never started) and removes it.
        var maintenance = Ds01(bed, host, "Invoke-Ds01Maintenance -Task Orphans");
        Ok(maintenance, "maintenance");
        var removed = maintenance.Objects<Ds01MaintenanceAction>().Where(a => a.Target.Contains(bed.RunId, StringComparison.Ordinal)).ToList();
        Assert.Equal(b2Made ? new[] { bed.Tag("b2") } : Array.Empty<string>(), removed.Select(a => a.Target));
        Assert.All(removed, a => Assert.True(a.Done && a.Action == MaintenanceActionKind.Remove, a.ToString()));
        Assert.Equal(new[] { bed.Tag("a1"), bed.Tag("c1") }, Mine(bed).Select(c => c.Names[0][1..]).Order());

        // Every event line is one whole event.
        foreach (var line in File.ReadAllLines(bed.Config.EventLogFile))
        {
            var e = JsonDocument.Parse(line).RootElement;
            Assert.False(string.IsNullOrEmpty(e.GetProperty("event_type").GetString()), line);
        }
    }
}

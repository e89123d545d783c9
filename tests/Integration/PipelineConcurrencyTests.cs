using System.Text.Json;
using Ds01.Core.Containers;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// Piped lifecycle actions run concurrently (bounded) against the real dockerd. The containers' /bin/sh is PID 1
/// and ignores SIGTERM, so every stop lasts its whole grace period: one after another, no two stops would overlap.
/// The assertions are on dockerd's own event times (overlap), never on how long the test took.
/// </summary>
[Collection("engine")]
public class PipelineConcurrencyTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    /// <summary>Per container, dockerd's first SIGTERM of a stop and the die that ended it (nanoseconds).</summary>
    private static Dictionary<string, (long Term, long Die)> StopIntervals(long sinceUnix, IEnumerable<string> tags)
    {
        var wanted = tags.ToHashSet(StringComparer.Ordinal);
        var until = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1;
        var (code, output, err) = DockerTestBed.DockerCli("events", "--since", sinceUnix.ToString(), "--until", until.ToString(),
            "--filter", "type=container", "--format", "{{json .}}");
        Assert.True(code == 0, err);
        var term = new Dictionary<string, long>();
        var die = new Dictionary<string, long>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var e = JsonDocument.Parse(line).RootElement;
            var attributes = e.GetProperty("Actor").GetProperty("Attributes");
            var name = attributes.GetProperty("name").GetString()!;
            if (!wanted.Contains(name)) continue;
            var action = e.GetProperty("Action").GetString();
            var at = e.GetProperty("timeNano").GetInt64();
            if (action == "kill" && attributes.TryGetProperty("signal", out var signal) && signal.GetString() == "15") term.TryAdd(name, at);
            else if (action == "die") die.TryAdd(name, at);
        }
        return wanted.ToDictionary(t => t, t =>
        {
            Assert.True(term.ContainsKey(t) && die.ContainsKey(t), $"dockerd reported no SIGTERM and die for {t}");
            return (term[t], die[t]);
        });
    }

    [Fact]
    public void Piped_stops_overlap_and_each_is_recorded()
    {
        using var bed = new DockerTestBed();
        var stems = new[] { "pa", "pb", "pc" };
        foreach (var s in stems) Assert.Empty(bed.Run($"Deploy-Ds01Container {bed.Name(s)} -Image {Img} -GpuCount 0").Errors);
        var since = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1;

        var r = bed.Run($"Get-Ds01Container *-{bed.RunId} | Stop-Ds01Container -TimeoutSec 5 -PassThru");

        Assert.Empty(r.Errors);
        var stopped = r.Objects<Ds01Container>().ToList();
        Assert.Equal(stems.Select(bed.Name).Order(), stopped.Select(c => c.Name).Order());
        Assert.All(stopped, c => Assert.Equal(ContainerState.Stopped, c.State));
        var intervals = StopIntervals(since, stems.Select(bed.Tag));
        // Every stop began before any of them ended: they ran at the same time.
        Assert.True(intervals.Values.Max(i => i.Term) < intervals.Values.Min(i => i.Die),
            "stops did not overlap: " + string.Join("; ", intervals.Select(i => $"{i.Key} {i.Value.Term}..{i.Value.Die}")));
        var log = File.ReadAllLines(bed.Config.EventLogFile).Where(l => l.Contains("\"container.stop\"")).ToList();
        foreach (var s in stems) Assert.Single(log, l => l.Contains(bed.Tag(s)));
    }

    [Fact]
    public void Piped_starts_keep_the_GPU_bookkeeping_one_slot_each()
    {
        using var bed = new DockerTestBed(simulatedGpus: 3, extraDefaults: "gpu_limit: 3");
        var stems = new[] { "ga", "gb", "gc" };
        foreach (var s in stems) Assert.Empty(bed.Run($"New-Ds01Container {bed.Name(s)} -Image {Img} -GpuCount 1").Errors);

        var r = bed.Run($"Get-Ds01Container *-{bed.RunId} | Start-Ds01Container -PassThru");

        Assert.Empty(r.Errors);
        var started = r.Objects<Ds01Container>().ToList();
        Assert.Equal(3, started.Count);
        Assert.All(started, c => Assert.Equal(ContainerState.Running, c.State));
        Assert.Equal(3, started.Select(c => c.Gpu).Distinct().Count());
        var log = File.ReadAllLines(bed.Config.EventLogFile).Where(l => l.Contains("\"container.start\"")).ToList();
        foreach (var s in stems) Assert.Single(log, l => l.Contains(bed.Tag(s)));

        // Pause, resume and remove through the pipe too; one container's error does not stop the others.
        Assert.Empty(bed.Run($"Get-Ds01Container *-{bed.RunId} | Suspend-Ds01Container").Errors);
        Assert.All(bed.Run($"Get-Ds01Container *-{bed.RunId}").Objects<Ds01Container>(), c => Assert.Equal(ContainerState.Paused, c.State));
        Assert.Empty(bed.Run($"Get-Ds01Container *-{bed.RunId} | Resume-Ds01Container").Errors);
        var removed = bed.Run($"'{bed.Name("ga")}', '{bed.Name("missing")}', '{bed.Name("gb")}', '{bed.Name("gc")}' | Remove-Ds01Container -Stop -Force");
        Assert.Equal("ContainerNotFound", removed.SingleError().FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(bed.Run($"Get-Ds01Container *-{bed.RunId}").Output);
        Assert.Empty(bed.Run("Get-Ds01GpuAllocation").Objects<Core.Gpu.Ds01GpuAllocation>().Where(a => a.Container.Contains(bed.RunId)));
    }

    [Fact]
    public void WhatIf_on_a_piped_stop_stops_nothing()
    {
        using var bed = new DockerTestBed();
        Assert.Empty(bed.Run($"Deploy-Ds01Container {bed.Name("wa")} -Image {Img} -GpuCount 0").Errors);
        Assert.Empty(bed.Run($"Deploy-Ds01Container {bed.Name("wb")} -Image {Img} -GpuCount 0").Errors);

        var r = bed.Run($"Get-Ds01Container *-{bed.RunId} | Stop-Ds01Container -WhatIf");

        Assert.Empty(r.Errors);
        Assert.True(bed.Inspect(bed.Tag("wa"))!.State!.Running);
        Assert.True(bed.Inspect(bed.Tag("wb"))!.State!.Running);
    }

    [Fact]
    public void SaveImage_with_more_than_one_container_removes_only_the_first()
    {
        using var bed = new DockerTestBed();
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("sa")} -Image {Img} -GpuCount 0").Errors);
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("sb")} -Image {Img} -GpuCount 0").Errors);

        var r = bed.Run($"'{bed.Name("sa")}', '{bed.Name("sb")}' | Remove-Ds01Container -SaveImage {bed.Name("one")} -Force");

        Assert.Equal("SaveImageNeedsOneContainer", r.SingleError().FullyQualifiedErrorId.Split(',')[0]);
        Assert.Null(bed.Inspect(bed.Tag("sa")));
        Assert.NotNull(bed.Inspect(bed.Tag("sb")));
    }
}

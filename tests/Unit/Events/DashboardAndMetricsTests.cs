using System.Globalization;
using System.Text.RegularExpressions;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Maintenance;
using Ds01.Core.Metrics;
using Ds01.Core.Status;
using Xunit;

namespace Ds01.Tests.Unit.Events;

/// <summary>The seeds' dashboard sample (3/4 GPUs at 67/94/12%, idle containers with "cleanup in 23h") and its metrics.</summary>
[Collection("engine")]
public class DashboardAndMetricsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static Ds01GpuSlot Slot(int i, GpuSlotState st, string? user, string? container, int util) => new Ds01GpuSlot
    {
        Slot = i.ToString(), Index = i, Uuid = $"GPU-{i}", Model = "A100", UtilizationPercent = util,
    }.WithAllocation(st, container, user, null);

    private static Ds01SystemStatus Sample() => new()
    {
        UpdatedAt = Now, GpuEquivalentsAllocated = 3, GpuEquivalentsTotal = 4, SlotsTotal = 4, SlotsInUse = 3,
        Slots = new[]
        {
            Slot(0, GpuSlotState.Allocated, "alice", "thesis", 67), Slot(1, GpuSlotState.Allocated, "bob", "nlp", 94),
            Slot(2, GpuSlotState.Allocated, "carol", "cv", 12), Slot(3, GpuSlotState.Free, null, null, 0),
        },
        Containers = new[]
        {
            new Ds01StatusContainer { Name = "thesis", Tag = "thesis._.1001", User = "alice", State = ContainerState.Running, Gpu = "0" },
            new Ds01StatusContainer { Name = "old-job", Tag = "old-job._.1003", User = "carol", State = ContainerState.Running, Idle = true,
                IdleSince = Now.AddHours(-25), StopsAt = Now.AddHours(23.5), StopReason = "Idle" },
            new Ds01StatusContainer { Name = "done", Tag = "done._.1002", User = "bob", State = ContainerState.Stopped },
        },
        ContainersRunning = 2, ContainersIdle = 1, ContainersStopped = 1,
    };

    [Fact]
    public void The_dashboard_draws_the_bar_a_line_per_slot_the_idle_countdown_and_the_update_time()
    {
        var r = PsEngine.Run("$s | Show-Ds01Dashboard", variables: new Dictionary<string, object?> { ["s"] = Sample() });
        Assert.Empty(r.Errors);
        var text = Assert.Single(r.Output).ToString();
        Assert.Contains("3/4 allocated", text);
        Assert.Contains("alice (thesis) - 67%", text);
        Assert.Contains("bob (nlp) - 94%", text);
        Assert.Contains("carol (cv) - 12%", text);
        Assert.Matches(new Regex(@"GPU 3\s+\[available\]"), text);
        Assert.Contains("Active containers (1)", text);
        Assert.Contains("Idle containers (1)", text);
        Assert.Matches(new Regex(@"carol\s+old-job.*\(cleanup in 23h\)"), text);
        Assert.Contains("Pending requests (0)", text);
        Assert.Contains($"Updated: {Now.ToLocalTime():HH:mm}", text);
        Assert.Contains("█████", text);
    }

    /// <summary>Parses exposition lines back: name{labels} value.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        var d = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.LastIndexOf(' ');
            d[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return d;
    }

    [Fact]
    public void Metrics_are_valid_exposition_with_the_numbers_of_the_status()
    {
        var state = new MaintenanceState { LastRun = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero) };
        state.ActionsByTask["Idle"] = 3;
        var text = MetricsExporter.Exposition(Sample(), state, u => u == "alice" ? "phd" : "msc");
        Assert.Contains("# TYPE ds01_maintenance_actions_total counter", text);
        Assert.Contains("# TYPE ds01_gpu_slots gauge", text);
        var m = Parse(text);
        Assert.Equal(3, m["ds01_gpu_slots{state=\"allocated\"}"]);
        Assert.Equal(1, m["ds01_gpu_slots{state=\"free\"}"]);
        Assert.Equal(0, m["ds01_gpu_slots{state=\"held\"}"]);
        Assert.Equal(4, m["ds01_gpu_equivalents"]);
        Assert.Equal(3, m["ds01_gpu_equivalents_allocated"]);
        Assert.Equal(1, m["ds01_user_gpu_equivalents{user=\"alice\",group=\"phd\"}"]);
        Assert.Equal(1, m["ds01_user_gpu_equivalents{user=\"bob\",group=\"msc\"}"]);
        Assert.Equal(94, m["ds01_gpu_slot_utilization_percent{slot=\"1\"}"]);
        Assert.Equal(2, m["ds01_containers{state=\"running\"}"]);
        Assert.Equal(1, m["ds01_containers{state=\"stopped\"}"]);
        Assert.Equal(1, m["ds01_containers_idle"]);
        Assert.Equal(0, m["ds01_gpu_queue_length"]);
        Assert.Equal(3, m["ds01_maintenance_actions_total{task=\"Idle\"}"]);
        Assert.Equal(0, m["ds01_maintenance_actions_total{task=\"Orphans\"}"]);
        Assert.Equal(state.LastRun.Value.ToUnixTimeSeconds(), m["ds01_maintenance_last_run_timestamp_seconds"]);
        Assert.DoesNotContain("process_", text);   // only Ds01's own metrics
    }

    [Fact]
    public void The_metric_file_is_replaced_atomically_and_a_missing_directory_is_an_error()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ds01-prom-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "ds01.prom");
            File.WriteAllText(file, "old");
            MetricsExporter.WriteAtomically(file, "ds01_x 1\n");
            Assert.Equal("ds01_x 1\n", File.ReadAllText(file));
            Assert.Equal(new[] { file }, Directory.GetFiles(dir));            // no temp file left behind
            var e = Assert.Throws<global::Ds01.Core.Ds01Exception>(() => MetricsExporter.WriteAtomically(Path.Combine(dir, "no", "x.prom"), "x"));
            Assert.Equal("MetricDirectoryNotFound", e.ErrorId);
        }
        finally { Directory.Delete(dir, true); }
    }
}

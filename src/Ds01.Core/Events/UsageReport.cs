using System.Globalization;
using System.Text.Json;

namespace Ds01.Core.Events;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum UsageGrouping { User, Group, Gpu, Day }

/// <summary>Where a usage report reads from: this server's events, or Slurm's accounting (sacct) over a cluster.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum UsageSource { Events, Slurm }

/// <summary>One row of a usage report: flat, so it exports to CSV as is.</summary>
public sealed class Ds01UsageSummary
{
    public UsageGrouping By { get; init; }
    /// <summary>The user, group, GPU slot or day (yyyy-MM-dd, UTC) this row is about.</summary>
    public string Name { get; init; } = "";
    /// <summary>Hours containers ran, times their GPU-equivalents (a 2g MIG slice for an hour is 0.286).</summary>
    public double GpuHours { get; set; }
    public double ContainerHours { get; set; }
    public int ContainersCreated { get; set; }
    /// <summary>Stopped by maintenance (idle or runtime limit).</summary>
    public int StoppedByMaintenance { get; set; }
    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }

    public override string ToString() => $"{By} {Name}: {GpuHours:0.##} GPU-h";
}

/// <summary>
/// Usage computed from the events alone, so it still works after the containers are gone: a container runs from
/// container.start to its stop (container.stop, a maintenance stop, a remove) or to the end of the window; its
/// GPU-equivalents come from its gpu.allocate event (or one per slot when that is missing). Events before the
/// window are read too, to know what was already running when it began.
/// </summary>
public static class UsageReport
{
    /// <summary>
    /// The source a report reads: the one asked for, else Slurm's accounting with backend: slurm and this server's
    /// events otherwise. Slurm without a cluster, or with an event-log path, is an error.
    /// </summary>
    public static UsageSource ChooseSource(Cluster.ClusterConfig cluster, UsageSource? requested, string? eventLogPath)
    {
        var source = requested ?? (cluster.IsSlurm ? UsageSource.Slurm : UsageSource.Events);
        if (source == UsageSource.Slurm && !cluster.IsSlurm)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "UsageSourceNeedsCluster",
                $"-Source Slurm reads Slurm's accounting, and {cluster.File} does not say backend: slurm.", "Slurm",
                "Leave out -Source (the events of this server), or configure the cluster in cluster.yaml.");
        if (source == UsageSource.Slurm && eventLogPath is not null)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "UsagePathWithSlurm",
                "-Path names an event log, which -Source Slurm does not read.", eventLogPath, "Use -Source Events with -Path, or leave out -Path.");
        return source;
    }

    private sealed class Run
    {
        public string User = "";
        public string Slots = "";
        public double? Weight;
        public DateTimeOffset? Since;
    }

    public static IReadOnlyList<Ds01UsageSummary> Compute(IEnumerable<Ds01Event> events, DateTimeOffset from, DateTimeOffset to,
        UsageGrouping by, Func<string, string?> groupOf)
    {
        var rows = new Dictionary<string, Ds01UsageSummary>(StringComparer.Ordinal);
        var runs = new Dictionary<string, Run>(StringComparer.Ordinal);
        Ds01UsageSummary Row(string name) => rows.TryGetValue(name, out var r) ? r
            : rows[name] = new Ds01UsageSummary { By = by, Name = name, From = from, To = to };
        IEnumerable<string> Keys(Run r, DateTimeOffset at) => by switch
        {
            UsageGrouping.User => new[] { r.User },
            UsageGrouping.Group => new[] { groupOf(r.User) ?? "(none)" },
            UsageGrouping.Gpu => r.Slots.Length == 0 ? new[] { "(none)" } : r.Slots.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()),
            _ => new[] { at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) },
        };
        void Close(Run r, DateTimeOffset end)
        {
            if (r.Since is not { } start) return;
            r.Since = null;
            var a = start < from ? from : start;
            var b = end > to ? to : end;
            if (b <= a) return;
            var slots = r.Slots.Split(',', StringSplitOptions.RemoveEmptyEntries).Length;
            var weight = r.Weight ?? slots;
            // Per day the interval is cut at midnight UTC; per GPU the weight is shared by the slots.
            for (var t = a; t < b;)
            {
                var dayEnd = by == UsageGrouping.Day ? new DateTimeOffset(t.UtcDateTime.Date.AddDays(1), TimeSpan.Zero) : b;
                var e = dayEnd < b ? dayEnd : b;
                var hours = (e - t).TotalHours;
                var keys = Keys(r, t).ToList();
                foreach (var k in keys)
                {
                    var row = Row(k);
                    row.ContainerHours += by == UsageGrouping.Gpu ? hours / keys.Count : hours;
                    row.GpuHours += hours * weight / keys.Count;
                }
                t = e;
            }
        }

        foreach (var ev in events)
        {
            if (ev.Timestamp > to) break;
            if (ev.Container.Length == 0) continue;
            if (!runs.TryGetValue(ev.Container, out var run)) runs[ev.Container] = run = new Run { User = ev.User };
            if (ev.User.Length > 0) run.User = ev.User;
            var inWindow = ev.Timestamp >= from;
            switch (ev.Type)
            {
                case "container.create":
                    run.Slots = ev.Gpu;
                    if (inWindow) foreach (var k in Keys(run, ev.Timestamp)) Row(k).ContainersCreated++;
                    break;
                case "gpu.allocate":
                    if (ev.Gpu.Length > 0) run.Slots = ev.Gpu;
                    run.Weight = Weight(ev.Details) ?? run.Weight;
                    break;
                case "container.start" or "container.unpause":
                    run.Since ??= ev.Timestamp;
                    break;
                case "container.stop" or "container.remove" or "container.pause":
                    Close(run, ev.Timestamp);
                    break;
                case "cleanup.idle" or "cleanup.runtime" or "cleanup.orphan":
                    if (ev.Outcome is "stopped" or "removed")
                    {
                        var wasRunning = run.Since is not null;
                        Close(run, ev.Timestamp);
                        if (inWindow && ev.Type != "cleanup.orphan" && (wasRunning || ev.Outcome == "stopped"))
                            foreach (var k in Keys(run, ev.Timestamp)) Row(k).StoppedByMaintenance++;
                    }
                    break;
            }
        }
        foreach (var r in runs.Values) Close(r, to);
        foreach (var row in rows.Values)
        {
            row.GpuHours = Math.Round(row.GpuHours, 4);
            row.ContainerHours = Math.Round(row.ContainerHours, 4);
        }
        return rows.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    private static double? Weight(string details)
    {
        try
        {
            using var doc = JsonDocument.Parse(details);
            return doc.RootElement.TryGetProperty("weight", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetDouble() : null;
        }
        catch (JsonException) { return null; }
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ds01.Core.Containers;
using Ds01.Core.Images;

namespace Ds01.Cli.Seed;

/// <summary>The seeds' own layouts: container-list, container-stats and image-list tables, --format=simple and json.</summary>
public static class SeedView
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>One JSON array of the objects, enums by name, as scripts read it.</summary>
    public static string ToJson(IEnumerable<object> items) =>
        JsonSerializer.Serialize(items.Select(i => (object?)i).ToArray(), Json);

    /// <summary>One name per line: what `for c in $(container-list --format=simple)` wants.</summary>
    public static IEnumerable<string> Simple(IEnumerable<object> items) =>
        items.Select(i => i.ToString() ?? "");

    public static IReadOnlyList<string> ContainerList(IReadOnlyList<Ds01Container> containers)
    {
        var rows = containers.Select(c => new[]
        {
            c.Name, c.State.ToString().ToLowerInvariant(), c.Image, Dash(c.Gpu), c.Uptime is { } u ? Duration(u) : "-",
        });
        var lines = Table(["NAME", "STATUS", "IMAGE", "GPU", "UPTIME"], rows).ToList();
        var running = containers.Count(c => c.State == ContainerState.Running);
        var stopped = containers.Count(c => c.State is ContainerState.Stopped or ContainerState.Created);
        lines.Add("");
        lines.Add($"{running} running, {stopped} stopped, {containers.Count} total");
        return lines;
    }

    public static IReadOnlyList<string> ContainerStats(IReadOnlyList<Ds01ContainerStats> stats) =>
        Table(["NAME", "CPU %", "MEM USAGE", "MEM %", "GPU MEM", "GPU %"], stats.Select(s => new[]
        {
            s.Name,
            s.CpuPercent.ToString("0.00", CultureInfo.InvariantCulture) + "%",
            $"{Size(s.MemoryUsageBytes)} / {(s.MemoryLimitBytes > 0 ? Size(s.MemoryLimitBytes) : "-")}",
            s.MemoryPercent.ToString("0.00", CultureInfo.InvariantCulture) + "%",
            // Docker reports no GPU memory per container; nvidia-smi per-process accounting is not read yet.
            "-",
            "-",
        })).ToList();

    public static IReadOnlyList<string> ImageList(IReadOnlyList<Ds01Image> images, DateTimeOffset now) =>
        Table(["REPOSITORY", "TAG", "SIZE", "CREATED"], images.Select(i => new[]
        {
            i.Repository, i.Tag, Size(i.SizeBytes), Duration(now - i.CreatedAt) + " ago",
        })).ToList();

    private static string Dash(string s) => string.IsNullOrEmpty(s) ? "-" : s;

    /// <summary>Left-aligned columns, two spaces apart, as the seeds and docker print them.</summary>
    public static IEnumerable<string> Table(string[] header, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { header };
        all.AddRange(rows);
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        return all.Select(r => string.Join("  ", r.Select((cell, i) => i == r.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }

    public static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        if (t.TotalDays >= 1) return $"{(int)t.TotalDays}d {t.Hours}h";
        if (t.TotalHours >= 1) return $"{(int)t.TotalHours}h {t.Minutes}m";
        if (t.TotalMinutes >= 1) return $"{(int)t.TotalMinutes}m";
        return $"{(int)t.TotalSeconds}s";
    }

    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes}B" : v.ToString("0.0", CultureInfo.InvariantCulture) + units[u];
    }
}

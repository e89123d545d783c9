using YamlDotNet.RepresentationModel;

namespace Ds01.Core.Configuration;

/// <summary>
/// resource-limits.yaml's maintenance: section, the knobs of Invoke-Ds01Maintenance. The per-user timeouts
/// (idle_timeout_hours, max_runtime_hours, gpu_hold_after_stop_minutes) stay with the limits.
/// </summary>
public sealed record MaintenanceSettings
{
    public static readonly MaintenanceSettings Default = new();

    /// <summary>Below this CPU use (percent of one CPU) a sample counts as idle.</summary>
    public double IdleCpuPercent { get; init; } = 5;
    /// <summary>Warn when this fraction of idle_timeout_hours has passed idle.</summary>
    public double IdleWarnFraction { get; init; } = 0.8;
    /// <summary>Warn when this fraction of max_runtime_hours has passed.</summary>
    public double RuntimeWarnFraction { get; init; } = 0.75;
    /// <summary>A created container never started for this long is an orphan.</summary>
    public double NeverStartedHours { get; init; } = 0.5;
    /// <summary>/workspace/.keep-alive touched within this many hours postpones the idle stop.</summary>
    public double KeepAliveMaxHours { get; init; } = 24;
    /// <summary>SIGTERM grace of a maintenance stop.</summary>
    public int StopTimeoutSeconds { get; init; } = 60;
    /// <summary>Also remove Ds01 project images no container uses (by default only those of removed accounts).</summary>
    public bool RemoveUnusedProjectImages { get; init; }

    internal static readonly string[] Keys =
    {
        "idle_cpu_percent", "idle_warn_fraction", "runtime_warn_fraction", "never_started_hours", "keep_alive_max_hours",
        "stop_timeout_seconds", "remove_unused_project_images",
    };

    internal static MaintenanceSettings Read(YamlSource src, YamlMappingNode map)
    {
        var s = new MaintenanceSettings();
        foreach (var (key, keyNode, value) in src.Entries(map))
        {
            double Num(double min, double max, bool whole = false)
            {
                if (YamlSource.TryNumber(value, out var n) && n >= min && n <= max && (!whole || n % 1 == 0)) return n;
                src.Problem(value, "InvalidValue", $"maintenance.{key} must be a {(whole ? "whole " : "")}number from {min} to {max}");
                return double.NaN;
            }
            double Keep(double n, double old) => double.IsNaN(n) ? old : n;
            switch (key)
            {
                case "idle_cpu_percent": s = s with { IdleCpuPercent = Keep(Num(0, 10000), s.IdleCpuPercent) }; break;
                case "idle_warn_fraction": s = s with { IdleWarnFraction = Keep(Num(0, 1), s.IdleWarnFraction) }; break;
                case "runtime_warn_fraction": s = s with { RuntimeWarnFraction = Keep(Num(0, 1), s.RuntimeWarnFraction) }; break;
                case "never_started_hours": s = s with { NeverStartedHours = Keep(Num(0, 100000), s.NeverStartedHours) }; break;
                case "keep_alive_max_hours": s = s with { KeepAliveMaxHours = Keep(Num(0, 100000), s.KeepAliveMaxHours) }; break;
                case "stop_timeout_seconds": s = s with { StopTimeoutSeconds = (int)Keep(Num(0, 3600, whole: true), s.StopTimeoutSeconds) }; break;
                case "remove_unused_project_images":
                    if (YamlSource.TryBool(value, out var b)) s = s with { RemoveUnusedProjectImages = b };
                    else src.Problem(value, "WrongType", "maintenance.remove_unused_project_images must be true or false");
                    break;
                default:
                    src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' in maintenance; known keys: {string.Join(", ", Keys)}");
                    break;
            }
        }
        return s;
    }
}

namespace Ds01.Core.Configuration;

/// <summary>A user's effective limits (check-limits). Null numbers mean unlimited.</summary>
public sealed class Ds01ResourceLimit
{
    public string User { get; init; } = "";
    public string? Group { get; init; }
    public int Priority { get; init; }
    public double? GpuLimit { get; init; }
    public double? MaxGpusPerContainer { get; init; }
    public bool AllowFullGpu { get; init; }
    public double? CpuLimit { get; init; }
    public long? MemoryLimitBytes { get; init; }
    public long? ShmSizeBytes { get; init; }
    public long? PidsLimit { get; init; }
    public int? MaxContainers { get; init; }
    public double? MaxRuntimeHours { get; init; }
    public double? IdleTimeoutHours { get; init; }
    public double GpuHoldAfterStopMinutes { get; init; }
    /// <summary>False: containers run with no-new-privileges, so sudo and setuid programs cannot make anyone root.</summary>
    public bool AllowSudo { get; init; }

    /// <summary>Where each key's value came from: "user", "group:NAME", "defaults" or "builtin".</summary>
    internal IReadOnlyDictionary<string, string> Sources { get; init; } = new Dictionary<string, string>();

    /// <summary>Every key's source as one line ("gpu_limit=group:students; cpu_limit=defaults"), so Export-Csv keeps it.</summary>
    public string Source => string.Join("; ", Sources.Select(s => $"{s.Key}={s.Value}"));

    /// <summary>Where one key's value came from ("user", "group:NAME", "defaults", "builtin"), or null for an unknown key.</summary>
    public string? SourceOf(string key) => Sources.TryGetValue(key, out var source) ? source : null;

    public override string ToString() => $"{User} ({Group ?? "no group"})";
}

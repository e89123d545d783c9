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
    public IReadOnlyDictionary<string, string> Source { get; init; } = new Dictionary<string, string>();

    public override string ToString() => $"{User} ({Group ?? "no group"})";
}

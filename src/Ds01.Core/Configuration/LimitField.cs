namespace Ds01.Core.Configuration;

public enum LimitValueType { Integer, Number, Boolean, Bytes }

/// <summary>One limit key as written in resource-limits.yaml, its type, range and built-in fallback.</summary>
public sealed class LimitField
{
    private LimitField(string key, LimitValueType type, double min, double? max, object? builtin, bool minExclusive = false)
    {
        Key = key; Type = type; Min = min; Max = max; Builtin = builtin; MinExclusive = minExclusive;
    }

    public string Key { get; }
    public LimitValueType Type { get; }
    public double Min { get; }
    public bool MinExclusive { get; }
    public double? Max { get; }
    /// <summary>Used when neither user, group nor defaults set the key; null means unlimited.</summary>
    public object? Builtin { get; }

    public const string Priority = "priority";
    public const string GpuLimit = "gpu_limit";
    public const string MaxGpusPerContainer = "max_gpus_per_container";
    public const string AllowFullGpu = "allow_full_gpu";
    public const string CpuLimit = "cpu_limit";
    public const string MemoryLimit = "memory_limit";
    public const string ShmSize = "shm_size";
    public const string PidsLimit = "pids_limit";
    public const string MaxContainers = "max_containers";
    public const string MaxRuntimeHours = "max_runtime_hours";
    public const string IdleTimeoutHours = "idle_timeout_hours";
    public const string GpuHoldAfterStopMinutes = "gpu_hold_after_stop_minutes";
    public const string AllowSudo = "allow_sudo";

    /// <summary>Docker refuses a memory limit below 6 MiB; a config that sets less would make every create fail.</summary>
    public const long MinMemoryBytes = 6L * 1024 * 1024;

    // Every number has a ceiling: a value past it is a typo (a 20-digit count, a hold of 1e12 minutes) that would
    // overflow later (a count read as -1, a TimeSpan that throws) and break commands for everyone.
    public static readonly IReadOnlyList<LimitField> All = new[]
    {
        new LimitField(Priority, LimitValueType.Integer, 1, 100, 50L),
        new LimitField(GpuLimit, LimitValueType.Number, 0, 10_000, 1.0),
        new LimitField(MaxGpusPerContainer, LimitValueType.Number, 0, 10_000, null),
        new LimitField(AllowFullGpu, LimitValueType.Boolean, 0, null, true),
        new LimitField(CpuLimit, LimitValueType.Number, 0, 100_000, null, minExclusive: true),
        new LimitField(MemoryLimit, LimitValueType.Bytes, MinMemoryBytes, 1L << 50, null),
        new LimitField(ShmSize, LimitValueType.Bytes, 1, 1L << 50, null),
        new LimitField(PidsLimit, LimitValueType.Integer, 1, 4_194_304, null),
        new LimitField(MaxContainers, LimitValueType.Integer, 0, 100_000, null),
        new LimitField(MaxRuntimeHours, LimitValueType.Number, 0, 87_600, null, minExclusive: true),
        new LimitField(IdleTimeoutHours, LimitValueType.Number, 0, 87_600, null, minExclusive: true),
        new LimitField(GpuHoldAfterStopMinutes, LimitValueType.Number, 0, 525_600, 15.0),
        // Root inside a container (sudo, or any setuid program) can leave a setuid-root file in the bind-mounted
        // workspace and run it on the host; without sudo, containers run with no-new-privileges.
        new LimitField(AllowSudo, LimitValueType.Boolean, 0, null, false),
    };

    public static readonly IReadOnlyDictionary<string, LimitField> ByKey = All.ToDictionary(f => f.Key, StringComparer.Ordinal);
}

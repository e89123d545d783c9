namespace Ds01.Core.Gpu;

// Newtonsoft.Json is what ConvertTo-Json serializes with: the attribute makes `... | ConvertTo-Json` write the name.
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum GpuAllocationState { Allocated, Held, Queued }

/// <summary>Who holds (or waits for) which GPU slots; flat for Export-Csv.</summary>
public sealed class Ds01GpuAllocation
{
    public string Container { get; init; } = "";
    public string User { get; init; } = "";
    public string Slots { get; init; } = "";
    public string Uuids { get; init; } = "";
    public double Weight { get; init; }
    public GpuAllocationState State { get; init; }
    public int? Priority { get; init; }
    public DateTimeOffset? AllocatedAt { get; init; }
    public DateTimeOffset? HoldExpiresAt { get; init; }
    /// <summary>On a cluster (backend: slurm): why Slurm keeps the request waiting (Resources, Priority, AssocGrpGRES).</summary>
    public string? Reason { get; init; }
    /// <summary>On a cluster: the Slurm job id of the request.</summary>
    public long? JobId { get; init; }

    public override string ToString() => $"{Container}: {Slots} ({State})";
}

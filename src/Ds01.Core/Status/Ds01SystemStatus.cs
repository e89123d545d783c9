using Ds01.Core.Containers;
using Ds01.Core.Gpu;

namespace Ds01.Core.Status;

/// <summary>A container as the status shows it: state, GPUs and, when maintenance has it in view, when it will be stopped.</summary>
public sealed class Ds01StatusContainer
{
    public string Name { get; init; } = "";
    public string Tag { get; init; } = "";
    public string User { get; init; } = "";
    public ContainerState State { get; init; }
    public string Gpu { get; init; } = "";
    /// <summary>Running, and idle in every maintenance sample since IdleSince.</summary>
    public bool Idle { get; init; }
    public DateTimeOffset? IdleSince { get; init; }
    /// <summary>When maintenance will stop it (idle timeout or max runtime, whichever comes first).</summary>
    public DateTimeOffset? StopsAt { get; init; }
    /// <summary>Idle or Runtime: which rule sets StopsAt.</summary>
    public string StopReason { get; init; } = "";
    /// <summary>The Slurm node it runs on (label ds01.node) with backend: slurm; null on a single server.</summary>
    public string? Node { get; init; }

    public override string ToString() => Tag;
}

/// <summary>
/// One node of a cluster (backend: slurm) in the status: Slurm's state and CPUs, its GPU GRES as GPU-equivalents
/// and slots, and the Ds01 containers on its Docker endpoint (Get-Ds01SystemStatus -Node lists these rows).
/// </summary>
public sealed class Ds01StatusNode
{
    public string Name { get; init; } = "";
    /// <summary>Slurm's node state (idle, mixed, allocated, down, with flags such as +drain).</summary>
    public string State { get; init; } = "";
    public double GpuEquivalentsAllocated { get; init; }
    public double GpuEquivalentsTotal { get; init; }
    public int SlotsTotal { get; init; }
    public int SlotsInUse { get; init; }
    public int CpusTotal { get; init; }
    public int CpusAllocated { get; init; }
    public int ContainersRunning { get; init; }
    public int ContainersTotal { get; init; }
    public string DockerHost { get; init; } = "";
    /// <summary>Why part of this row could not be read (Slurm does not know the node, its endpoint did not answer); empty when all is well.</summary>
    public string Problem { get; init; } = "";

    public override string ToString() => Name;
}

/// <summary>
/// The server at a glance (the seeds' dashboard): GPUs allocated of total in GPU-equivalents, each slot's holder and
/// utilisation, containers by state, the GPU queue, the next cleanups. The scalar properties export to CSV as one
/// row; the lists hold the detail for the dashboard and the service's status page.
/// </summary>
public sealed class Ds01SystemStatus
{
    public DateTimeOffset UpdatedAt { get; init; }
    public double GpuEquivalentsAllocated { get; init; }
    public double GpuEquivalentsTotal { get; init; }
    public int SlotsTotal { get; init; }
    public int SlotsInUse { get; init; }
    public int ContainersRunning { get; init; }
    public int ContainersIdle { get; init; }
    public int ContainersPaused { get; init; }
    public int ContainersStopped { get; init; }
    public int ContainersCreated { get; init; }
    public int QueuedRequests { get; init; }
    public DateTimeOffset? NextCleanupAt { get; init; }
    public DateTimeOffset? LastMaintenanceRun { get; init; }
    public IReadOnlyList<Ds01GpuSlot> Slots { get; init; } = Array.Empty<Ds01GpuSlot>();
    public IReadOnlyList<Ds01StatusContainer> Containers { get; init; } = Array.Empty<Ds01StatusContainer>();
    public IReadOnlyList<Ds01GpuAllocation> Queue { get; init; } = Array.Empty<Ds01GpuAllocation>();
    /// <summary>With backend: slurm, how many nodes the cluster has (0 on a single server).</summary>
    public int NodeCount { get; init; }
    /// <summary>With backend: slurm, one row per node; empty on a single server.</summary>
    public IReadOnlyList<Ds01StatusNode> Nodes { get; init; } = Array.Empty<Ds01StatusNode>();
    /// <summary>What could not be read (no GPU inventory, ...); the rest of the status is still true.</summary>
    public IReadOnlyList<string> Problems { get; init; } = Array.Empty<string>();

    public override string ToString() => $"{GpuEquivalentsAllocated:0.##}/{GpuEquivalentsTotal:0.##} GPUs allocated, {ContainersRunning} running";
}

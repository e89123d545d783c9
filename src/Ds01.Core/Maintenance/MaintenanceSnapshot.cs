using Ds01.Core.Containers;
using Ds01.Core.Events;

namespace Ds01.Core.Maintenance;

/// <summary>What maintenance knows about one container at the time of a run; gathered from Docker, the OS and nvidia-smi.</summary>
public sealed class ContainerFacts
{
    public required string Id { get; init; }
    public required string Tag { get; init; }
    public string User { get; init; } = "";
    public ContainerState State { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public bool Protected { get; init; }
    /// <summary>False when the owner's account no longer exists.</summary>
    public bool OwnerExists { get; init; } = true;
    public string ImageId { get; init; } = "";
    public string Gpu { get; init; } = "";
    public double GpuHoldMinutes { get; init; } = 15;
    /// <summary>CPU use in percent of one CPU; null when it could not be measured (never counts as idle).</summary>
    public double? CpuPercent { get; init; }
    /// <summary>Highest utilisation over the container's GPUs; null when unknown (then CPU decides, as DS01 does).</summary>
    public int? GpuUtilPercent { get; init; }
    public int ExecSessions { get; init; }
    public DateTimeOffset? KeepAliveAt { get; init; }
    public double? IdleTimeoutHours { get; init; }
    public double? MaxRuntimeHours { get; init; }
    /// <summary>The Slurm job a cluster container runs as (label ds01.slurm.job, with backend: slurm); null for a local one.</summary>
    public long? SlurmJob { get; init; }
    /// <summary>Slurm says that job still runs (so it still holds its GRES); false when it ended or could not be read.
    /// Set after the facts are gathered, from one squeue for all of them.</summary>
    public bool SlurmJobRunning { get; set; }

    public ContainerFacts With(bool ownerExists) => new()
    {
        Id = Id, Tag = Tag, User = User, State = State, CreatedAt = CreatedAt, StartedAt = StartedAt, FinishedAt = FinishedAt,
        Protected = Protected, OwnerExists = ownerExists, ImageId = ImageId, Gpu = Gpu, GpuHoldMinutes = GpuHoldMinutes,
        CpuPercent = CpuPercent, GpuUtilPercent = GpuUtilPercent, ExecSessions = ExecSessions, KeepAliveAt = KeepAliveAt,
        IdleTimeoutHours = IdleTimeoutHours, MaxRuntimeHours = MaxRuntimeHours, SlurmJob = SlurmJob, SlurmJobRunning = SlurmJobRunning,
    };
}

public sealed class ImageFacts
{
    public required string Id { get; init; }
    public required IReadOnlyList<string> Tags { get; init; }
    public bool Protected { get; init; }
    /// <summary>A committed per-container image of the legacy create path (repo:name._.uid).</summary>
    public bool IsLegacyCommit { get; init; }
    /// <summary>A Ds01 project image (ds01-{uid}/project).</summary>
    public bool IsProjectImage { get; init; }
    public bool OwnerExists { get; init; } = true;
}

/// <summary>A temporary container of the legacy create path (UserSetupPath: ds01-setup-NAME._.UID-xxxxxxxx).</summary>
public sealed class SetupContainerFacts
{
    public required string Id { get; init; }
    /// <summary>Docker's name without the leading '/'.</summary>
    public required string Name { get; init; }
    /// <summary>The uid in the name (the owner of the create it served), as text.</summary>
    public string Uid { get; init; } = "";
    /// <summary>Running, paused or restarting: its setup script may still be at work.</summary>
    public bool Running { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public bool Protected { get; init; }
}

public sealed class MaintenanceSnapshot
{
    public IReadOnlyList<SetupContainerFacts> SetupContainers { get; init; } = Array.Empty<SetupContainerFacts>();
    public IReadOnlyList<ContainerFacts> Containers { get; init; } = Array.Empty<ContainerFacts>();
    public IReadOnlyList<ImageFacts> Images { get; init; } = Array.Empty<ImageFacts>();
    public EventLogRotationPlan? Rotation { get; init; }
}

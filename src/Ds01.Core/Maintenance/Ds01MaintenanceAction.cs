namespace Ds01.Core.Maintenance;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum MaintenanceTask { Idle, Runtime, GpuHold, Orphans, LogRotation }

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum MaintenanceActionKind { Stop, Remove, RemoveImage, Release, Warn, Rotate, EndJob }

/// <summary>
/// One thing maintenance does (or, under -WhatIf, would do): flat, so a run's report exports to CSV.
/// Done is false in a plan and when the action failed (then Error says why).
/// </summary>
public sealed class Ds01MaintenanceAction
{
    public MaintenanceTask Task { get; init; }
    public MaintenanceActionKind Action { get; init; }
    /// <summary>The container tag (name._.uid), empty for image and log actions.</summary>
    public string Container { get; init; } = "";
    public string User { get; init; } = "";
    /// <summary>What is acted on: the container tag, an image reference or the log file.</summary>
    public string Target { get; init; } = "";
    public string Reason { get; init; } = "";
    public bool Done { get; set; }
    public string? Error { get; set; }

    /// <summary>Docker id of the container or image (not shown; the executor needs it).</summary>
    public string Id { get; init; } = "";
    /// <summary>GPU slots of the container, for the events.</summary>
    public string Gpu { get; init; } = "";
    /// <summary>The Slurm job an EndJob action cancels (a cluster container's GPU hold after stop); null otherwise.</summary>
    public long? Job { get; init; }
    /// <summary>When a warned container will be stopped.</summary>
    public DateTimeOffset? StopsAt { get; init; }

    public override string ToString() => $"{Task} {Action} {Target}: {Reason}";
}

namespace Ds01.Core.Containers;

// Newtonsoft.Json is what ConvertTo-Json serializes with: the attribute makes `... | ConvertTo-Json` write the name.
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum ContainerState { Created, Running, Paused, Stopped }

/// <summary>A user's container as Ds01 shows it: flat properties, so it exports to CSV as is.</summary>
public sealed class Ds01Container
{
    /// <summary>The name the user typed (my-project), not the Docker name.</summary>
    public string Name { get; init; } = "";
    /// <summary>The Docker name, AIME style: name._.uid.</summary>
    public string Tag { get; init; } = "";
    public string Id { get; init; } = "";
    public string? User { get; init; }
    public int? Uid { get; init; }
    public string? Group { get; init; }
    public string? Project { get; init; }
    public string Image { get; init; } = "";
    public ContainerState State { get; init; }
    /// <summary>GPU slots held, comma-separated ("0" or "2.1,2.2"); empty if none.</summary>
    public string Gpu { get; init; } = "";
    public string GpuUuids { get; init; } = "";
    /// <summary>For a stopped container holding GPUs: when its hold ends and the GPU goes back to the pool.</summary>
    public DateTimeOffset? GpuHoldExpiresAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    public TimeSpan? Uptime { get; init; }
    public string? Framework { get; init; }
    public string? Workspace { get; init; }
    /// <summary>False for containers made by AIME mlc alone (aime.mlc labels only).</summary>
    public bool IsDs01Managed { get; init; }
    public string Status { get; init; } = "";
    /// <summary>The cluster node it runs on (backend: slurm); null on a single server.</summary>
    public string? Node { get; init; }
    /// <summary>Running and idle in every maintenance sample since then (Invoke-Ds01Maintenance); null when busy or not sampled.</summary>
    public DateTimeOffset? IdleSince { get; set; }
    /// <summary>When maintenance will stop it for being idle, if it stays idle.</summary>
    public DateTimeOffset? StopsAt { get; set; }

    public override string ToString() => Name;
}

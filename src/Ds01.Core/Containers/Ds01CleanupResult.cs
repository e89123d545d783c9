namespace Ds01.Core.Containers;

/// <summary>What container-cleanup removed and how much disk it gave back; flat for Export-Csv.</summary>
public sealed class Ds01CleanupResult
{
    public string User { get; init; } = "";
    /// <summary>The removed containers' names, comma separated.</summary>
    public string Removed { get; init; } = "";
    public int RemovedCount { get; init; }
    /// <summary>Stopped containers left in place (declined at the prompt, or their removal failed).</summary>
    public string Kept { get; init; } = "";
    /// <summary>The removed containers' writable layers (what docker ps --size shows), in bytes.</summary>
    public long BytesReclaimed { get; init; }
    /// <summary>The writable layers of the user's containers that remain, in bytes.</summary>
    public long RemainingBytes { get; init; }
}

/// <summary>A stopped container cleanup would remove, with its size on disk.</summary>
public sealed record CleanupCandidate(Ds01Container Container, long SizeBytes);

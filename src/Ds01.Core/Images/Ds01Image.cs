namespace Ds01.Core.Images;

/// <summary>One tag of an image as Get-Ds01Image shows it; flat, so Export-Csv writes every column.</summary>
public sealed class Ds01Image
{
    public string Repository { get; init; } = "";
    public string Tag { get; init; } = "";
    /// <summary>The full reference, repository:tag; Remove-Ds01Image binds it by property name.</summary>
    public string Name { get; init; } = "";
    public string? Project { get; init; }
    /// <summary>The owner's UID from ds01-{uid}/... or a legacy ...:name._.{uid} tag; null for base images.</summary>
    public int? Uid { get; init; }
    public string Id { get; init; } = "";
    public long SizeBytes { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string? BaseImage { get; init; }
    public string? Framework { get; init; }
    public bool HasUserSetup { get; init; }
    public int? UserId { get; init; }
    public int? GroupId { get; init; }
    public string? Username { get; init; }
    /// <summary>User-facing names of the containers created from this image (without "._.uid"), comma-separated; empty when unused.</summary>
    public string InUseBy { get; init; } = "";
    /// <summary>Committed by the legacy create path (tag name._.uid), not built from a Dockerfile.</summary>
    public bool IsLegacyCommit { get; init; }

    public override string ToString() => Name;
}

namespace Ds01.Core.Images;

/// <summary>One base image of the AIME catalog: a framework version built for one or more GPU architectures.</summary>
public class Ds01Framework
{
    public string Framework { get; init; } = "";
    public string Version { get; init; } = "";
    internal string[] ArchitectureList { get; init; } = [];

    /// <summary>The AIME architectures this row serves, ';'-separated as in ml_images.repo v2 (one cell in Export-Csv).</summary>
    public string Architectures => string.Join(";", ArchitectureList);

    /// <summary>The architectures as a list.</summary>
    public string[] GetArchitectures() => [.. ArchitectureList];
    public string Image { get; init; } = "";

    /// <summary>The aime.mlc.FRAMEWORK label value, e.g. "Pytorch-2.5.1".</summary>
    public string Label => $"{Framework}-{Version}";

    public override string ToString() => $"{Framework} {Version} [{Architectures}] {Image}";
}

/// <summary>
/// The outcome of picking a base image: the catalog entry (null for the Docker Hub fallback), the image to build
/// FROM, and a warning when the asked-for version was replaced by another.
/// </summary>
public sealed class ImageResolution
{
    public Ds01Framework? Entry { get; init; }
    public string Image { get; init; } = "";
    public string Framework { get; init; } = "";
    public string Version { get; init; } = "";
    public string? Warning { get; init; }
}

namespace Ds01.Core.Images;

/// <summary>The use-case package set of the fourth Dockerfile phase.</summary>
public enum UseCase
{
    Custom,
    Cv,
    Nlp,
    Rl,
    Ml,
}

/// <summary>What a user's project image is built from; DockerfileGenerator validates it and writes the Dockerfile.</summary>
public sealed class DockerfileSpec
{
    /// <summary>Project name (ContainerNaming's project rule); it becomes the image ds01-{uid}/{project}.</summary>
    public string Project { get; init; } = "";

    /// <summary>The framework image to build FROM (an AIME catalog image or the Docker Hub fallback).</summary>
    public string BaseImage { get; init; } = "";

    /// <summary>Framework and version, for the labels only (e.g. Pytorch, 2.5.1); no framework label when null.</summary>
    public string? Framework { get; init; }
    public string? Version { get; init; }

    public UseCase UseCase { get; init; } = UseCase.Custom;

    /// <summary>Extra pip requirements such as "wandb" or "numpy>=1.26".</summary>
    public IReadOnlyList<string> Packages { get; init; } = [];

    public bool Jupyter { get; init; }
    public bool DataScience { get; init; }

    /// <summary>The sanitised account name created in the image (UsernameSanitizer's output).</summary>
    public string UserName { get; init; } = "";

    public int Uid { get; init; }
    public int Gid { get; init; }
}

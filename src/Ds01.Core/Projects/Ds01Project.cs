namespace Ds01.Core.Projects;

/// <summary>A user's project: its workspace folder, its Dockerfile and its image, and what the last command changed.</summary>
public sealed class Ds01Project
{
    public string Name { get; init; } = "";
    public string User { get; init; } = "";
    public string Workspace { get; init; } = "";
    public string Dockerfile { get; init; } = "";
    /// <summary>ds01-{uid}/{project}:latest.</summary>
    public string Image { get; init; } = "";
    public bool ImageExists { get; init; }
    /// <summary>What this command did ("workspace, Dockerfile, image"), or "" when nothing needed doing.</summary>
    public string Changed { get; init; } = "";
}

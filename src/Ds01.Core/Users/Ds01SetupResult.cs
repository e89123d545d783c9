namespace Ds01.Core.Users;

/// <summary>What user-setup left in place for a user, and what this run changed (flat, for Export-Csv).</summary>
public sealed class Ds01SetupResult
{
    public string User { get; init; } = "";
    /// <summary>The home folders the setup keeps, comma-separated.</summary>
    public string HomeDirs { get; init; } = "";
    public string SshKeyPath { get; init; } = "";
    /// <summary>The VS Code Remote-SSH snippet's file (under ~/.config/ds01).</summary>
    public string VsCodeConfig { get; init; } = "";
    public bool VsCodeConfigured { get; init; }
    /// <summary>The starter container's name, or "" when none was asked for.</summary>
    public string Container { get; init; } = "";
    public string JupyterUrl { get; init; } = "";
    public string SshCommand { get; init; } = "";
    /// <summary>What this run did ("folders, SSH key, VS Code config, container"), or "" when nothing needed doing.</summary>
    public string Changed { get; init; } = "";
}

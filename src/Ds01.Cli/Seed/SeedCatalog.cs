namespace Ds01.Cli.Seed;

/// <summary>How a seed command's output is laid out with --format=table|simple (json is always the objects).</summary>
public enum SeedLayout { Engine, ContainerList, ContainerStats, ImageList }

/// <summary>
/// One DS01 seed command (container-create, image-list, ...) and the cmdlet that does its work. Flags map onto the
/// cmdlet's parameters: <see cref="Flags"/> names the seeds' own spellings, anything else is read as kebab-case of
/// the parameter (--timeout-sec = -TimeoutSec); fixed switches are set whatever the user typed.
/// </summary>
public sealed record SeedCommand(
    string Name,
    string Cmdlet,
    string Summary,
    string Concept,
    IReadOnlyDictionary<string, string> Flags,
    IReadOnlyList<string> FixedSwitches,
    SeedLayout Layout = SeedLayout.Engine,
    string? Then = null)
{
    /// <summary>The cmdlet parameter a --flag binds to.</summary>
    public string ParameterFor(string flag) =>
        Flags.TryGetValue(flag, out var p) ? p : string.Concat(flag.Split('-', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
}

/// <summary>The seed commands ds01 understands, by the names DS01's scripts had.</summary>
public static class SeedCatalog
{
    private static readonly Dictionary<string, string> None = new();
    private static Dictionary<string, string> F(params (string Flag, string Parameter)[] map) =>
        map.ToDictionary(m => m.Flag, m => m.Parameter, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> CreateFlags =
        F(("gpu", "GpuCount"), ("gpus", "GpuCount"), ("gpu-slot", "Gpu"), ("data", "DataPath"), ("timeout", "TimeoutSec"));

    public static readonly IReadOnlyList<SeedCommand> All =
    [
        new("container-create", "New-Ds01Container", "create a container (GPU chosen and recorded)", "about_Ds01_Containers", CreateFlags, []),
        new("container-deploy", "Deploy-Ds01Container", "create a container and start it (--open: and enter it)", "about_Ds01_Containers", CreateFlags, []),
        new("container-start", "Start-Ds01Container", "start a stopped container", "about_Ds01_Containers", None, []),
        new("container-run", "Enter-Ds01Container", "start a container if needed and open a shell in it", "about_Ds01_Containers", None, ["Start"]),
        new("container-attach", "Enter-Ds01Container", "open a shell in a running container", "about_Ds01_Containers", None, []),
        new("container-pause", "Suspend-Ds01Container", "pause a running container", "about_Ds01_Containers", None, []),
        new("container-unpause", "Resume-Ds01Container", "resume a paused container", "about_Ds01_Containers", None, []),
        new("container-stop", "Stop-Ds01Container", "stop a container (its GPU stays held for a while)", "about_Ds01_Containers", F(("timeout", "TimeoutSec")), []),
        new("container-remove", "Remove-Ds01Container", "remove a container (frees its GPU; workspace files stay)", "about_Ds01_Containers", None, []),
        new("container-retire", "Remove-Ds01Container", "stop and remove a container, freeing its GPU at once (--save-image=NAME keeps it as an image)", "about_Ds01_Containers", F(("save-image", "SaveImage")), ["Stop"]),
        new("container-cleanup", "Clear-Ds01Container", "remove stopped containers (sizes shown, confirmation unless --all)", "about_Ds01_Containers", F(("all", "Force")), []),
        new("container-exit", "Exit-Ds01Container", "how to leave a container's shell without stopping it", "about_Ds01_Containers", None, []),
        new("container-list", "Get-Ds01Container", "list your containers", "about_Ds01_Containers", F(("all", "AllUsers")), [], SeedLayout.ContainerList),
        new("container-stats", "Get-Ds01ContainerStats", "CPU, memory and GPU use of running containers", "about_Ds01_Containers", None, [], SeedLayout.ContainerStats),
        new("image-create", "Build-Ds01Image", "build a project image from the AIME catalog", "about_Ds01_Images", None, []),
        new("image-update", "Update-Ds01Image", "add or remove packages and rebuild a project image", "about_Ds01_Images", F(("add", "AddPackage"), ("remove", "RemovePackage")), []),
        new("image-list", "Get-Ds01Image", "list your images", "about_Ds01_Images", None, [], SeedLayout.ImageList),
        new("image-delete", "Remove-Ds01Image", "delete an image", "about_Ds01_Images", None, []),
        new("project-init", "Initialize-Ds01Project", "set up a project: workspace folder, Dockerfile, optionally its image (--build)", "about_Ds01_Images",
            F(("framework", "Framework"), ("type", "UseCase"), ("add", "Package")), []),
        new("project-launch", "Start-Ds01Project", "build the project image if missing, deploy its container (--open: and enter it)", "about_Ds01_Containers",
            F(("gpu", "GpuCount"), ("gpus", "GpuCount")), []),
        new("user-setup", "Initialize-Ds01User", "set up your account: home folders, SSH key, VS Code snippet, optionally a starter container", "about_Ds01_Containers",
            F(("container", "StarterContainer"), ("image", "Image"), ("gpu", "GpuCount"), ("host", "HostName")), []),
        new("image-pull", "Import-Ds01Image", "fetch a base image (an AIME framework's, or --image=NAME)", "about_Ds01_Images", F(("version", "FrameworkVersion")), []),
        new("check-limits", "Get-Ds01ResourceLimit", "your resource limits", "about_Ds01_Quotas", None, []),
        new("gpu-status", "Get-Ds01Gpu", "every GPU and MIG slot and who holds it", "about_Ds01_Gpu", None, []),
        new("dashboard", "Show-Ds01Dashboard", "a live view of GPUs, containers and users, redrawn until Ctrl+C (--refresh=SECONDS)", "about_Ds01_Gpu",
            F(("refresh", "RefreshSec")), ["Watch"]),
    ];

    private static readonly Dictionary<string, SeedCommand> ByName = All.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public static SeedCommand? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The about topics --concepts lists.</summary>
    public static readonly IReadOnlyList<string> Concepts =
        ["about_Ds01", "about_Ds01_Containers", "about_Ds01_Gpu", "about_Ds01_Images", "about_Ds01_Quotas"];
}

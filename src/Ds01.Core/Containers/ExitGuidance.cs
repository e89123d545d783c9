namespace Ds01.Core.Containers;

/// <summary>
/// container-exit, which in DS01 is educational: how to leave a container's shell without stopping the container,
/// and how that differs from stopping it. One text for Exit-Ds01Container and the seed command.
/// </summary>
public static class ExitGuidance
{
    public static IReadOnlyList<string> Lines { get; } =
    [
        "Leaving a container's shell does not stop the container.",
        "",
        "  exit  (or Ctrl+D)     ends your shell; the container and whatever you started in it keep running.",
        "  Ctrl+P, Ctrl+Q        does nothing here: Ds01 opens shells with docker exec, not docker attach.",
        "",
        "To come back later:     Enter-Ds01Container <name>        (container-attach <name>)",
        "To stop it (ends every process in it; the GPU stays held for a while):",
        "                        Stop-Ds01Container <name>         (container-stop <name>)",
        "When you are done, free the GPU at once (workspace files stay on the server):",
        "                        Remove-Ds01Container <name> -Stop (container-retire <name>)",
        "",
        "Long jobs: start them with nohup or inside tmux in the container, then exit; they keep running.",
        "More: Get-Help about_Ds01_Containers",
    ];
}

using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Docker;

namespace Ds01.PowerShell;

/// <summary>
/// An interactive shell in a container, handed to `docker exec -it` as mlc open does (proxying a TTY through
/// PowerShell's host is fragile); used by the cmdlets that end in a shell (-Open).
/// </summary>
public static class InteractiveShell
{
    /// <summary>docker exec -it without a terminal fails after the fact ("the input device is not a TTY"): refuse first, before any change.</summary>
    public static void RequireTerminal(string cmdlet, string name, bool open = true)
    {
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "TerminalRequired",
                $"{cmdlet}{(open ? " -Open" : "")} needs an interactive terminal, and stdin or stdout is redirected.", name,
                $"Run it in a terminal{(open ? ", or leave out -Open" : "")}; in scripts use Invoke-Ds01ContainerCommand.");
    }

    /// <summary>Runs the shell in the container until the user leaves it; the container keeps running.</summary>
    public static void Run(DockerEngine engine, string containerId, string shell) => Run(engine.Endpoint, containerId, shell);

    /// <summary>The shell through the given Docker endpoint (a cluster node's docker_host).</summary>
    public static void Run(string endpoint, string containerId, string shell)
    {
        var psi = new ProcessStartInfo("docker") { UseShellExecute = false };
        foreach (var a in new[] { "exec", "-it", containerId, shell }) psi.ArgumentList.Add(a);
        // The endpoint this command chose (ds01d's socket when there is one), not the CLI's own default.
        psi.Environment["DOCKER_HOST"] = endpoint;
        Process? started;
        try { started = Process.Start(psi); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "DockerCliMissing", $"Could not start the docker CLI: {e.Message}.", "docker",
                "Install the docker CLI; the interactive shell is handed to `docker exec -it`.", e);
        }
        using var p = started ?? throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "DockerCliMissing",
            "Could not start the docker CLI.", "docker", "Install the docker CLI; the shell is handed to `docker exec -it`.");
        p.WaitForExit();
    }
}

using System.Diagnostics;
using System.Management.Automation;
using Ds01.Core;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// container-attach / container-run: an interactive shell, by handing the terminal to `docker exec -it` as
/// mlc open does (proxying a TTY through PowerShell's host is fragile). Leaving the shell keeps the container running.
/// </summary>
[Cmdlet(VerbsCommon.Enter, "Ds01Container")]
[OutputType(typeof(void))]
public sealed class EnterDs01ContainerCommand : Ds01ContainerTargetCmdlet
{
    /// <summary>Start the container first if it is not running (container-run).</summary>
    [Parameter]
    public SwitchParameter Start { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Shell { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        // docker exec -it without a terminal fails after the fact ("the input device is not a TTY"); refuse first.
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "TerminalRequired",
                $"Enter-Ds01Container needs an interactive terminal, and stdin or stdout is redirected.", Name,
                "Run it in a terminal; in scripts use Invoke-Ds01ContainerCommand.");
        var owner = Owner(User);
        var (id, shell) = Await(Containers.ShellTargetAsync(Name, owner, Start, Shell, Cancellation));
        ShowFeedback();
        var psi = new ProcessStartInfo("docker") { UseShellExecute = false };
        foreach (var a in new[] { "exec", "-it", id, shell }) psi.ArgumentList.Add(a);
        // The endpoint this command chose (ds01d's socket when there is one), not the CLI's own default.
        psi.Environment["DOCKER_HOST"] = Engine.Endpoint;
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
        Tell($"You left {Name}; it is still running. 'exit' ends only your shell. Stop it with Stop-Ds01Container {Name} (or remove it when done).");
    });
}

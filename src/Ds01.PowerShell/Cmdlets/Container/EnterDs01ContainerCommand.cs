using System.Diagnostics;
using System.Management.Automation;
using Ds01.Core;
using Ds01.Core.Containers;

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
        var owner = Owner(User);
        var c = Await(Containers.ResolveAsync(Name, owner, Cancellation));
        if (!c.State.Running)
        {
            if (!Start)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerNotRunning", $"Container '{Name}' is not running.", Name,
                    "Use Start-Ds01Container first, or Enter-Ds01Container -Start.");
            Await(Containers.StartAsync(Name, owner, Cancellation));
        }
        var shell = Shell ?? (Await(Engine.ExecAsync(c.ID, new[] { "test", "-x", "/bin/bash" }, null, Cancellation)).ExitCode == 0 ? "/bin/bash" : "/bin/sh");
        var psi = new ProcessStartInfo("docker") { UseShellExecute = false };
        foreach (var a in new[] { "exec", "-it", c.ID, shell }) psi.ArgumentList.Add(a);
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

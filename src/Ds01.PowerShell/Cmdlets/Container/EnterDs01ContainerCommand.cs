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
        InteractiveShell.RequireTerminal("Enter-Ds01Container", Name ?? "", open: false);
        var owner = Owner(User);
        // On a cluster the shell goes to the node's endpoint that holds the container, not this server's.
        var containers = Await(ContainersForAsync(Name, owner, Node, Cancellation));
        var (id, shell) = Await(containers.ShellTargetAsync(Name, owner, Start, Shell, Cancellation));
        ShowFeedback();
        InteractiveShell.Run(containers.Endpoint ?? Engine.Endpoint, id, shell);
        Tell($"You left {Name}; it is still running. 'exit' ends only your shell. Stop it with Stop-Ds01Container {Name} (or remove it when done).");
    });
}

using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-deploy: create and start in one step (New-Ds01Container, then Start-Ds01Container); -Open then enters a shell
/// (on a cluster, through the docker_host of the container's node).</summary>
[Cmdlet("Deploy", "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class DeployDs01ContainerCommand : Ds01ContainerCreateCmdlet
{
    /// <summary>Enter a shell in the container once it runs (container-run).</summary>
    [Parameter]
    public SwitchParameter Open { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Shell { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        // Refused before anything is created: a deploy that cannot open its shell changes nothing.
        if (Open && !MyInvocation.BoundParameters.ContainsKey("WhatIf")) InteractiveShell.RequireTerminal("Deploy-Ds01Container", Name);
        if (!ShouldProcess($"{Name} (owner {owner.Name})", CreateAction("Create and start"))) return;
        var c = AwaitWithProgress(Deployment.DeployAsync(CreateRequest("orchestration"), owner, Cancellation));
        ShowFeedback();
        WriteObject(c);
        if (!Open)
        {
            Tell($"{c.Name} is running{(c.Gpu.Length > 0 ? $" on GPU {c.Gpu}" : "")}. Open a shell with: Enter-Ds01Container {c.Name}");
            return;
        }
        // On a cluster the container is on its node's endpoint, which need not be this server's.
        var (endpoint, id, shell) = Await(Deployment.ShellTargetAsync(c, owner, Shell, Session.Config.Cluster, Cancellation));
        InteractiveShell.Run(endpoint ?? Engine.Endpoint, id, shell);
        Tell($"You left {c.Name}; it is still running. 'exit' ends only your shell. Stop it with Stop-Ds01Container {c.Name} (or remove it when done).");
    });
}

using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-create: a container with the user's limits fixed at create time (not started).</summary>
[Cmdlet(VerbsCommon.New, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class NewDs01ContainerCommand : Ds01ContainerCreateCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var owner = Owner(User);
            if (!ShouldProcess($"{Name} (owner {owner.Name})", CreateAction("Create"))) return;
            // backend: slurm (cluster.yaml) submits a job and runs the container on the node Slurm picks.
            var c = AwaitWithProgress(Deployment.CreateAsync(CreateRequest(), owner, Cancellation));
            ShowFeedback();
            if (PassThru) WriteObject(c);
            else Tell($"Created {c.Name}{(c.Gpu.Length > 0 ? $" with GPU {c.Gpu}" : "")}. Start it with: Start-Ds01Container {c.Name}");
        });
    }
}

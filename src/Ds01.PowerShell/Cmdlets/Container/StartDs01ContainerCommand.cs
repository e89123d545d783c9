using System.Management.Automation;
using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-start: runs a created or stopped container in the background.</summary>
[Cmdlet(VerbsLifecycle.Start, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class StartDs01ContainerCommand : Ds01ContainerBatchCmdlet<Ds01Container>
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool Confirm(string name, UserIdentity owner) => ShouldProcess(name, "Start container");

    protected override Task<Ds01Container> ActAsync(ContainerService containers, string name, UserIdentity owner, CancellationToken ct) =>
        containers.StartAsync(name, owner, ct);

    protected override void Completed(string name, Ds01Container result)
    {
        if (PassThru) WriteObject(result);
    }
}

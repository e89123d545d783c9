using System.Management.Automation;
using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-pause: freezes every process; memory and GPU stay with the container.</summary>
[Cmdlet(VerbsLifecycle.Suspend, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01Container))]
public sealed class SuspendDs01ContainerCommand : Ds01ContainerBatchCmdlet<Ds01Container>
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool Confirm(string name, UserIdentity owner) => ShouldProcess(name, "Pause container");

    protected override Task<Ds01Container> ActAsync(ContainerService containers, string name, UserIdentity owner, CancellationToken ct) =>
        containers.PauseAsync(name, owner, ct);

    protected override void Completed(string name, Ds01Container result)
    {
        if (PassThru) WriteObject(result);
    }
}

using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-pause: freezes every process; memory and GPU stay with the container.</summary>
[Cmdlet(VerbsLifecycle.Suspend, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01Container))]
public sealed class SuspendDs01ContainerCommand : Ds01ContainerTargetCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        if (!ShouldProcess(Name, "Pause container")) return;
        var c = Await(Containers.PauseAsync(Name, owner, Cancellation));
        if (PassThru) WriteObject(c);
    });
}

using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-start: runs a created or stopped container in the background.</summary>
[Cmdlet(VerbsLifecycle.Start, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class StartDs01ContainerCommand : Ds01ContainerTargetCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        if (!ShouldProcess(Name, "Start container")) return;
        var c = Await(Containers.StartAsync(Name, owner, Cancellation));
        if (PassThru) WriteObject(c);
    });
}

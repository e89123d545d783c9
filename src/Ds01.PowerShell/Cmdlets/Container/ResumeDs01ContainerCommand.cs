using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-unpause: lets a paused container's processes run again.</summary>
[Cmdlet(VerbsLifecycle.Resume, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class ResumeDs01ContainerCommand : Ds01ContainerTargetCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        if (!ShouldProcess(Name, "Resume container")) return;
        var c = Await(Containers.ResumeAsync(Name, owner, Cancellation));
        if (PassThru) WriteObject(c);
    });
}

using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-remove: deletes the container and frees its GPU at once; workspace files stay on the host.</summary>
[Cmdlet(VerbsCommon.Remove, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveDs01ContainerCommand : Ds01ContainerTargetCmdlet
{
    /// <summary>Stop a running container first instead of refusing.</summary>
    [Parameter]
    public SwitchParameter Stop { get; set; }

    /// <summary>No confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        if (!ShouldAct(Name, Stop ? "Stop and remove container" : "Remove container", Force)) return;
        Await(Containers.RemoveAsync(Name, owner, Stop, Cancellation));
    });
}

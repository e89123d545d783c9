using System.Management.Automation;
using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-unpause: lets a paused container's processes run again.</summary>
[Cmdlet(VerbsLifecycle.Resume, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class ResumeDs01ContainerCommand : Ds01ContainerBatchCmdlet<Ds01Container>
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool Confirm(string name, UserIdentity owner) => ShouldProcess(name, "Resume container");

    protected override Task<Ds01Container> ActAsync(ContainerService containers, string name, UserIdentity owner, CancellationToken ct) =>
        containers.ResumeAsync(name, owner, ct);

    protected override void Completed(string name, Ds01Container result)
    {
        if (PassThru) WriteObject(result);
    }
}

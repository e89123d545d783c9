using System.Management.Automation;
using Ds01.Core.Status;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>The server at a glance: GPUs allocated of total, slots and holders, containers by state, queue, next cleanups.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01SystemStatus")]
[OutputType(typeof(Ds01SystemStatus))]
public sealed class GetDs01SystemStatusCommand : Ds01ContainerCmdlet
{
    protected override void EndProcessing()
    {
        Try(() => WriteObject(Await(new SystemStatusService(Session, Engine).GetAsync(Cancellation))));
        base.EndProcessing();
    }
}

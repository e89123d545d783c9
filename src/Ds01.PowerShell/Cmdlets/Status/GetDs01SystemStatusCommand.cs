using System.Management.Automation;
using Ds01.Core.Status;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// The server at a glance: GPUs allocated of total, slots and holders, containers by state, queue, next cleanups.
/// With backend: slurm it covers every node; -Node writes one row per node instead.
/// </summary>
[Cmdlet(VerbsCommon.Get, "Ds01SystemStatus")]
[OutputType(typeof(Ds01SystemStatus), typeof(Ds01StatusNode))]
public sealed class GetDs01SystemStatusCommand : Ds01ContainerCmdlet
{
    /// <summary>One row per cluster node (Slurm's state, GPUs, CPUs, containers on its endpoint); none on a single server.</summary>
    [Parameter]
    public SwitchParameter Node { get; set; }

    protected override void EndProcessing()
    {
        Try(() =>
        {
            var status = Await(new SystemStatusService(Session, Engine).GetAsync(Cancellation));
            if (Node) WriteObject(status.Nodes, enumerateCollection: true);
            else WriteObject(status);
        });
        base.EndProcessing();
    }
}

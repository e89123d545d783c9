using System.Management.Automation;
using Ds01.Core.Gpu;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>Who holds which GPU slots (allocated and held after stop), or with -Queued who waits for one.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01GpuAllocation")]
[OutputType(typeof(Ds01GpuAllocation))]
public sealed class GetDs01GpuAllocationCommand : Ds01ContainerCmdlet
{
    /// <summary>
    /// Only this user's allocations: a filter open to everyone, so it is not called -User, which everywhere else
    /// means acting for someone. Objects with a User property (Get-Ds01Container) still bind by that name.
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("User")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? Holder { get; set; }

    /// <summary>Requests waiting for a GPU (New-Ds01Container -Wait), in serving order.</summary>
    [Parameter]
    public SwitchParameter Queued { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        // backend: slurm: the queue is Slurm's pending jobs, with its reason for each.
        if (Queued && Session.Config.Cluster.IsSlurm)
        {
            var pending = Await(Ds01.Core.Cluster.ClusterQueue.QueuedAsync(Session, Cancellation));
            WriteObject(pending.Where(a => Holder is null || a.User == Holder), enumerateCollection: true);
            return;
        }
        var gpu = Placement;
        var list = Queued ? gpu.QueuedAllocations() : Await(gpu.AllocationsAsync(includeHeld: true, Cancellation));
        WriteObject(list.Where(a => Holder is null || a.User == Holder), enumerateCollection: true);
    });
}

using System.Management.Automation;
using Ds01.Core.Gpu;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>gpu-status: every GPU slot (full GPU or MIG instance) with who holds it.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01Gpu")]
[OutputType(typeof(Ds01GpuSlot))]
public sealed class GetDs01GpuCommand : Ds01ContainerCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Slot { get; set; }

    [Parameter]
    public GpuSlotState[]? State { get; set; }

    protected override void EndProcessing() => Try(() =>
    {
        // backend: slurm: every node's GRES, as Slurm allocates them.
        var all = Session.Config.Cluster.IsSlurm
            ? Await(Ds01.Core.Cluster.ClusterGpus.SlotsAsync(Session, Await(Containers.ListAllAsync(Cancellation)), Cancellation))
            : Await(Placement.SlotStatesAsync(Cancellation));
        var slots = all
            .Where(s => State is null || State.Contains(s.State))
            .Where(s => Slot is null || Slot.Any(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase).IsMatch(s.Slot)));
        WriteObject(slots, enumerateCollection: true);
    });
}

using System.Management.Automation;
using Ds01.Core.Cluster;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>Makes Slurm's associations and QOS match resource-limits.yaml (gpu_limit → GrpTRES, priority → QOS).</summary>
[Cmdlet(VerbsData.Sync, "Ds01SlurmAccount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01SlurmAccountChange))]
public sealed class SyncDs01SlurmAccountCommand : Ds01Cmdlet
{
    /// <summary>Write each change (applied, or with -WhatIf planned) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        // sacctmgr itself refuses non-operators; saying so first names the Ds01 rule instead of Slurm's.
        if (!Session.Access.CallerIsAdmin)
            throw new Ds01.Core.Ds01Exception(Ds01.Core.Ds01ErrorKind.PermissionDenied, "NotAnAdmin",
                "Only Ds01 admins can change Slurm's accounts.", Session.Caller.Name, "Run it as root or as a user listed under admins.");
        var sync = new SlurmAccountSync(Session);
        var plan = Await(sync.PlanAsync(Cancellation));
        if (plan.Count == 0) WriteVerbose("Slurm's associations and QOS already match resource-limits.yaml.");
        foreach (var change in plan)
        {
            if (ShouldProcess(change.Target, change.Command)) Await(sync.ApplyAsync(change, Cancellation));
            if (PassThru || MyInvocation.BoundParameters.ContainsKey("WhatIf")) WriteObject(change);
        }
        ShowFeedback();
    });
}

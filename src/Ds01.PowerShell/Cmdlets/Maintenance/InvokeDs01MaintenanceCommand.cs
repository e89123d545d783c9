using System.Management.Automation;
using Ds01.Core.Maintenance;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// idle-cleanup, runtime limits, GPU hold expiry, orphan cleanup and log rotation in one run (the systemd timer's
/// job). Plans first, then acts; -WhatIf returns exactly the plan with Done = $false and changes nothing.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "Ds01Maintenance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01MaintenanceAction))]
public sealed class InvokeDs01MaintenanceCommand : Ds01ContainerCmdlet
{
    [Parameter(Position = 0)]
    public MaintenanceTask[] Task { get; set; } = MaintenancePlanner.AllTasks.ToArray();

    protected override void EndProcessing()
    {
        var service = new MaintenanceService(Session, Engine);
        Try(() =>
        {
            var tasks = Task.Distinct().ToList();
            if (MyInvocation.BoundParameters.ContainsKey("WhatIf") && ((SwitchParameter)MyInvocation.BoundParameters["WhatIf"]).IsPresent)
            {
                var (plan, _) = Await(service.PlanAsync(tasks, Cancellation));
                foreach (var a in plan)
                {
                    ShouldProcess(a.Target, $"{a.Task}: {a.Action} ({a.Reason})");
                    WriteObject(a);
                }
                return;
            }
            if (!ShouldProcess(string.Join(", ", tasks), "Run maintenance")) return;
            foreach (var a in Await(service.RunAsync(tasks, null, Cancellation)))
            {
                WriteObject(a);
                if (a.Error is not null)
                    WriteError(new ErrorRecord(new InvalidOperationException(a.Error), "MaintenanceActionFailed", ErrorCategory.InvalidOperation, a.Target)
                    {
                        ErrorDetails = new ErrorDetails($"{a.Task} {a.Action} of {a.Target} failed: {a.Error}")
                        { RecommendedAction = "See the error; the other actions went on. The next run tries again." },
                    });
            }
        });
        base.EndProcessing();
    }
}

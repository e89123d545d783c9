using System.Management.Automation;
using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-stop: stops (or kills) a container; its GPU stays held for gpu_hold_after_stop_minutes.</summary>
[Cmdlet(VerbsLifecycle.Stop, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01Container))]
public sealed class StopDs01ContainerCommand : Ds01ContainerBatchCmdlet<Ds01Container>
{
    /// <summary>Seconds to wait after SIGTERM before Docker kills (docker stop -t).</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int TimeoutSec { get; set; } = 10;

    /// <summary>SIGKILL at once (docker kill).</summary>
    [Parameter]
    public SwitchParameter Kill { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool Confirm(string name, UserIdentity owner) =>
        ShouldAct(name, Kill ? "Kill container (all its processes end now)" : "Stop container (all its processes are terminated)", Force);

    // Piped containers stop together (at most BoundedParallel.PipelineDegree at once), as `docker stop a b c` does.
    protected override Task<Ds01Container> ActAsync(ContainerService containers, string name, UserIdentity owner, CancellationToken ct) =>
        containers.StopAsync(name, owner, TimeoutSec, Kill, ct);

    protected override void Completed(string name, Ds01Container result)
    {
        if (PassThru) WriteObject(result);
    }
}

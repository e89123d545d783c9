using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-stop: stops (or kills) a container; its GPU stays held for gpu_hold_after_stop_minutes.</summary>
[Cmdlet(VerbsLifecycle.Stop, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01Container))]
public sealed class StopDs01ContainerCommand : Ds01ContainerTargetCmdlet
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

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        if (!ShouldAct(Name, Kill ? "Kill container (all its processes end now)" : "Stop container (all its processes are terminated)", Force)) return;
        var c = Await(Containers.StopAsync(Name, owner, TimeoutSec, Kill, Cancellation));
        if (PassThru) WriteObject(c);
    });
}

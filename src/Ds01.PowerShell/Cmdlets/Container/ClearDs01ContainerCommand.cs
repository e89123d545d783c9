using System.Management.Automation;
using Ds01.Core;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// container-cleanup: lists your stopped containers with their sizes, removes each you confirm (-Force: all, the
/// seed's --all), and reports the disk given back. Running containers are never touched.
/// </summary>
[Cmdlet(VerbsCommon.Clear, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(Ds01CleanupResult))]
public sealed class ClearDs01ContainerCommand : Ds01ContainerCmdlet
{
    /// <summary>Remove every stopped container without a prompt (container-cleanup --all).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    protected override void EndProcessing()
    {
        Try(() =>
        {
            var owner = Owner(User);
            var cleanup = new ContainerCleanup(Engine, Containers);
            var (stopped, total) = Await(cleanup.SurveyAsync(owner, Cancellation));
            if (stopped.Count == 0)
            {
                Tell($"No stopped containers; your containers use {ContainerCleanup.Human(total)} on disk.");
                WriteObject(ContainerCleanup.Result(owner, [], [], total));
                return;
            }
            Tell($"{stopped.Count} stopped container(s), {ContainerCleanup.Human(stopped.Sum(s => s.SizeBytes))} of the {ContainerCleanup.Human(total)} your containers use:");
            foreach (var s in stopped) Tell($"  {s.Container.Name,-30} {ContainerCleanup.Human(s.SizeBytes),10}  {s.Container.Image}");
            // Confirmed one by one on this thread; the removals then run together (as a piped Remove-Ds01Container).
            var chosen = stopped.Where(s => ShouldAct(s.Container.Name, $"Remove stopped container ({ContainerCleanup.Human(s.SizeBytes)})", Force)).ToList();
            var removed = new List<CleanupCandidate>();
            var kept = stopped.Except(chosen).ToList();
            foreach (var o in BoundedParallel.Run(chosen, BoundedParallel.PipelineDegree,
                         async (s, ct) =>
                         {
                             // A cluster container is removed through its node's endpoint (ClusterEndpoints).
                             var at = await ContainersForAsync(s.Container.Name, owner, s.Container.Node, ct).ConfigureAwait(false);
                             await at.RemoveAsync(s.Container.Name, owner, false, ct).ConfigureAwait(false);
                             return s;
                         }, Cancellation))
            {
                if (o.Error is null) { removed.Add(o.Item); continue; }
                kept.Add(o.Item);
                Try(() => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(o.Error).Throw());
            }
            var result = ContainerCleanup.Result(owner, removed, kept, total);
            if (removed.Count > 0)
                Tell($"Removed {removed.Count} container(s), {ContainerCleanup.Human(result.BytesReclaimed)} freed; your containers now use {ContainerCleanup.Human(result.RemainingBytes)}. Workspace files stay on the host.");
            WriteObject(result);
        });
        base.EndProcessing();
    }
}

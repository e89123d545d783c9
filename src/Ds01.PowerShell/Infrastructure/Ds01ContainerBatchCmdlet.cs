using System.Runtime.ExceptionServices;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.PowerShell;

/// <summary>
/// Lifecycle cmdlets whose piped containers are acted on together. ProcessRecord resolves the owner and asks
/// ShouldProcess for each container on the pipeline thread (so -WhatIf and -Confirm work per container), and
/// queues it; EndProcessing runs the queue in Core, at most <see cref="BoundedParallel.PipelineDegree"/> at once,
/// and writes each result or error back on the pipeline thread as it finishes (in that order, not input order).
/// </summary>
public abstract class Ds01ContainerBatchCmdlet<TResult> : Ds01ContainerTargetCmdlet
{
    private readonly List<(string Name, UserIdentity Owner, string? Node)> _queued = new();

    /// <summary>How many containers are queued so far (for checks that allow only one).</summary>
    protected int QueuedCount => _queued.Count;

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        if (!Confirm(Name, owner)) return;
        _queued.Add((Name, owner, Node));
    });

    /// <summary>Checks that need no Docker call, then ShouldProcess (or ShouldAct with -Force) for one container.</summary>
    protected abstract bool Confirm(string name, UserIdentity owner);

    /// <summary>
    /// The action on one container, through <paramref name="containers"/>: the service over the Docker endpoint that
    /// holds it (on a cluster its node's, see ContainersForAsync). Runs off the pipeline thread, so it may not call Write*.
    /// </summary>
    protected abstract Task<TResult> ActAsync(ContainerService containers, string name, UserIdentity owner, CancellationToken ct);

    /// <summary>On the pipeline thread, once the action on <paramref name="name"/> succeeded.</summary>
    protected abstract void Completed(string name, TResult result);

    protected override void EndProcessing()
    {
        // Made here, once, before the parallel actions share them.
        _ = Containers;
        var outcomes = BoundedParallel.Run(_queued, BoundedParallel.PipelineDegree,
            async (q, ct) => await ActAsync(await ContainersForAsync(q.Name, q.Owner, q.Node, ct).ConfigureAwait(false), q.Name, q.Owner, ct).ConfigureAwait(false),
            Cancellation);
        foreach (var o in outcomes)
        {
            Try(() =>
            {
                // Rethrown here so the error becomes the same record a one-by-one run would have written.
                if (o.Error is not null) ExceptionDispatchInfo.Capture(o.Error).Throw();
                Completed(o.Item.Name, o.Result!);
            });
        }
        base.EndProcessing();
    }
}

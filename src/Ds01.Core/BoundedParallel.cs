using System.Threading.Channels;

namespace Ds01.Core;

/// <summary>One item's result, or what it failed with.</summary>
public sealed record ParallelOutcome<TItem, TResult>(TItem Item, TResult? Result, Exception? Error);

/// <summary>
/// Runs the same action over many items, a bounded number at once, and hands each outcome back on the caller's
/// thread as it completes: `Get-Ds01Container | Stop-Ds01Container` then waits about one stop grace period for a
/// few containers, as `docker stop a b c` does, instead of one per container, while PowerShell's Write* calls
/// stay on the pipeline thread.
/// </summary>
public static class BoundedParallel
{
    /// <summary>How many lifecycle actions a pipeline runs at once: enough to overlap stop grace periods, few
    /// enough not to flood dockerd (or ds01d) with one user's requests.</summary>
    public const int PipelineDegree = 4;

    /// <summary>
    /// Starts <paramref name="work"/> for every item, at most <paramref name="degree"/> at once, and yields one
    /// outcome per item in the order they finish. A failure is that item's outcome, never the others'.
    /// Cancellation goes to every action; items not yet started finish with OperationCanceledException.
    /// </summary>
    public static IEnumerable<ParallelOutcome<TItem, TResult>> Run<TItem, TResult>(IReadOnlyList<TItem> items, int degree,
        Func<TItem, CancellationToken, Task<TResult>> work, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degree, 1);
        if (items.Count == 0) yield break;
        var done = Channel.CreateUnbounded<ParallelOutcome<TItem, TResult>>();
        // Not disposed: actions still running when the caller stops reading (an error with -ErrorAction Stop) release it later.
        var gate = new SemaphoreSlim(degree);
        foreach (var item in items)
        {
            _ = Task.Run(async () =>
            {
                var entered = false;
                try
                {
                    await gate.WaitAsync(ct).ConfigureAwait(false);
                    entered = true;
                    var result = await work(item, ct).ConfigureAwait(false);
                    done.Writer.TryWrite(new ParallelOutcome<TItem, TResult>(item, result, null));
                }
                catch (Exception e)
                {
                    done.Writer.TryWrite(new ParallelOutcome<TItem, TResult>(item, default, e));
                }
                finally
                {
                    if (entered) gate.Release();
                }
            }, CancellationToken.None);
        }
        // Every item writes exactly one outcome, so this reads exactly as many as there are.
        for (var i = 0; i < items.Count; i++)
            yield return done.Reader.ReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }
}

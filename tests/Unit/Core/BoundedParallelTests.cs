using Ds01.Core;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>The bounded runner behind piped lifecycle actions: never more than the degree at once, every item once.</summary>
public class BoundedParallelTests
{
    [Fact]
    public void Runs_up_to_the_degree_at_once_and_never_more()
    {
        var running = 0;
        var peak = 0;
        var reachedDegree = new TaskCompletionSource();
        var items = Enumerable.Range(0, 10).ToList();

        var outcomes = BoundedParallel.Run(items, 4, async (i, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            if (now == 4) reachedDegree.TrySetResult();
            // Each action waits until four ran together once, so the peak is reached whatever the machine's load.
            await reachedDegree.Task.WaitAsync(TimeSpan.FromMinutes(2), ct);
            Interlocked.Decrement(ref running);
            return i * 10;
        }, CancellationToken.None).ToList();

        Assert.Equal(4, peak);
        Assert.Equal(items.Select(i => i * 10).Order(), outcomes.Select(o => o.Result).Order());
        Assert.All(outcomes, o => Assert.Null(o.Error));
    }

    [Fact]
    public void A_failure_is_that_items_outcome_and_the_others_still_run()
    {
        var outcomes = BoundedParallel.Run(new[] { "a", "bad", "c" }, 2, (s, ct) =>
            s == "bad" ? Task.FromException<string>(new Ds01Exception(Ds01ErrorKind.NotFound, "ContainerNotFound", "no bad"))
                       : Task.FromResult(s.ToUpperInvariant()), CancellationToken.None).ToList();

        Assert.Equal(3, outcomes.Count);
        var failed = Assert.Single(outcomes, o => o.Error is not null);
        Assert.Equal("bad", failed.Item);
        Assert.Equal("ContainerNotFound", Assert.IsType<Ds01Exception>(failed.Error).ErrorId);
        Assert.Equal(new[] { "A", "C" }, outcomes.Where(o => o.Error is null).Select(o => o.Result).Order());
    }

    [Fact]
    public void Cancelled_before_start_every_item_reports_cancellation()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var ran = 0;

        var outcomes = BoundedParallel.Run(new[] { 1, 2, 3 }, 1, (i, ct) => { Interlocked.Increment(ref ran); return Task.FromResult(i); }, cancel.Token).ToList();

        Assert.Equal(0, ran);
        Assert.All(outcomes, o => Assert.IsAssignableFrom<OperationCanceledException>(o.Error));
    }

    [Fact]
    public void No_items_no_outcomes() =>
        Assert.Empty(BoundedParallel.Run(Array.Empty<int>(), 4, (i, ct) => Task.FromResult(i), CancellationToken.None));

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}

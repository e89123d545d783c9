using Ds01.Core;
using Ds01.Core.Gpu;
using FsCheck;
using FsCheck.Xunit;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

public class SlotAllocatorProperties
{
    private static readonly IReadOnlyList<Ds01GpuSlot>[] Machines =
    {
        NvidiaSmiParserTests.SlotsOf("a100x4-mig-mixed-constructed"),
        NvidiaSmiParserTests.SlotsOf("h100-80gb-mig-disabled"),
    };

    private static readonly string[] Users = { "alice", "bob", "carol" };

    /// <summary>
    /// Random holdings and requests: a choice never contains a slot someone holds, never passes the quota or the
    /// per-container limit, and a refusal happens only when no combination of free slots would have fit.
    /// </summary>
    [Property(MaxTest = 1000)]
    public void Never_chooses_a_held_slot_never_exceeds_quota_and_refuses_only_when_nothing_fits(
        bool a100, byte[] holders, bool[] held, NonNegativeInt count, NonNegativeInt limitSevenths,
        NonNegativeInt maxSevenths, bool allowFull)
    {
        var slots = Machines[a100 ? 0 : 1];
        var holdings = new List<GpuHolding>();
        for (var i = 0; i < slots.Count && i < holders.Length; i++)
        {
            var b = holders[i];
            if (b % 4 == 3) continue; // free
            holdings.Add(new GpuHolding($"c{i}", Users[b % 4], new[] { slots[i].Slot },
                i < held.Length && held[i] ? GpuHoldingState.Held : GpuHoldingState.Allocated, null));
        }
        var limit = limitSevenths.Get % 16 == 15 ? (double?)null : limitSevenths.Get % 16 / 7.0;
        var max = maxSevenths.Get % 16 == 15 ? (double?)null : maxSevenths.Get % 16 / 7.0;
        var request = new GpuRequest("alice", count.Get % 4 + 1, null, limit, max, allowFull);

        var heldIds = holdings.SelectMany(h => h.Slots).ToHashSet();
        var used = holdings.Where(h => h.User == "alice").SelectMany(h => h.Slots)
            .Sum(id => slots.Single(s => s.Slot == id).Weight);
        var free = slots.Where(s => !heldIds.Contains(s.Slot) && (allowFull || s.IsMig)).ToList();
        bool Fits(double sum) => (limit is null || used + sum <= limit + 1e-9) && (max is null || sum <= max + 1e-9);
        var feasible = Subsets(free, request.Count).Any(c => Fits(c.Sum(s => s.Weight)));

        IReadOnlyList<Ds01GpuSlot> chosen;
        try
        {
            chosen = SlotAllocator.Choose(slots, holdings, request);
        }
        catch (Ds01Exception e)
        {
            Assert.False(feasible, $"refused with {e.ErrorId} ({e.Message}) although a choice fits");
            return;
        }
        Assert.True(feasible);
        Assert.Equal(request.Count, chosen.Count);
        Assert.Equal(chosen.Count, chosen.Select(s => s.Slot).Distinct().Count());
        Assert.DoesNotContain(chosen, s => heldIds.Contains(s.Slot));
        Assert.True(Fits(chosen.Sum(s => s.Weight)), "the choice passes a limit");
        if (!allowFull) Assert.All(chosen, s => Assert.True(s.IsMig));
    }

    private static IEnumerable<List<Ds01GpuSlot>> Subsets(List<Ds01GpuSlot> items, int k, int start = 0)
    {
        if (k == 0) { yield return new List<Ds01GpuSlot>(); yield break; }
        for (var i = start; i <= items.Count - k; i++)
            foreach (var rest in Subsets(items, k - 1, i + 1))
            {
                rest.Insert(0, items[i]);
                yield return rest;
            }
    }
}

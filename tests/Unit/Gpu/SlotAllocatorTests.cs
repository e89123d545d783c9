using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

public class SlotAllocatorTests
{
    private static readonly IReadOnlyList<Ds01GpuSlot> H100 = NvidiaSmiParserTests.SlotsOf("h100-80gb-mig-disabled");
    private static readonly IReadOnlyList<Ds01GpuSlot> A100 = NvidiaSmiParserTests.SlotsOf("a100x4-mig-mixed-constructed");
    private static readonly GpuHolding[] None = Array.Empty<GpuHolding>();

    private static GpuRequest Req(int count = 1, string? slot = null, double? limit = null, double? max = null,
        bool full = true, string user = "alice") => new(user, count, slot, limit, max, full);

    private static GpuHolding Holds(string container, string user, params string[] slots) =>
        new(container, user, slots, GpuHoldingState.Allocated, null);

    private static GpuHolding HeldAfterStop(string container, string user, DateTimeOffset until, params string[] slots) =>
        new(container, user, slots, GpuHoldingState.Held, until);

    private static string[] Ids(IEnumerable<Ds01GpuSlot> slots) => slots.Select(s => s.Slot).ToArray();

    [Fact]
    public void H100_free_gives_its_one_gpu()
    {
        Assert.Equal(new[] { "0" }, Ids(SlotAllocator.Choose(H100, None, Req())));
    }

    [Fact]
    public void H100_taken_is_no_free_gpu_naming_the_container()
    {
        var e = Assert.Throws<Ds01Exception>(() =>
            SlotAllocator.Choose(H100, new[] { Holds("train._.1002", "bob", "0") }, Req(limit: 2)));
        Assert.Equal(Ds01ErrorKind.ResourceUnavailable, e.Kind);
        Assert.Equal("NoFreeGpu", e.ErrorId);
        Assert.Contains("0 allocated to train._.1002 (bob)", e.Message);
        Assert.Contains("0 of 1 are free", e.Message);
        Assert.Contains("alice holds 0.00 of 2.00 GPU-equivalents", e.Message);
    }

    [Fact]
    public void A_slot_held_after_stop_is_busy_and_says_until_when()
    {
        var until = new DateTimeOffset(2026, 3, 1, 14, 5, 0, TimeSpan.Zero);
        var e = Assert.Throws<Ds01Exception>(() =>
            SlotAllocator.Choose(H100, new[] { HeldAfterStop("nb._.1002", "bob", until, "0") }, Req()));
        Assert.Equal("NoFreeGpu", e.ErrorId);
        Assert.Contains("held for stopped container nb._.1002 (bob) until 2026-03-01 14:05 UTC", e.Message);
    }

    [Fact]
    public void Quota_message_states_use_need_and_limit()
    {
        var e = Assert.Throws<Ds01Exception>(() =>
            SlotAllocator.Choose(A100.Where(s => !s.IsMig).ToList(), new[] { Holds("a._.1001", "alice", "0") }, Req(limit: 1)));
        Assert.Equal(Ds01ErrorKind.QuotaExceeded, e.Kind);
        Assert.Equal("GpuQuotaExceeded", e.ErrorId);
        // What is held and where, what was asked, the limit, and what to do about it (issue 12's newcomer message).
        Assert.Equal("alice holds 1.00 GPU-equivalents (GPU 0 in 'a'); this request (1 GPU slot) needs 1.00 more; " +
                     "the limit is 1.00 (gpu_limit), so 2.00 would be over it. A full GPU counts 1.00, a MIG slice Ng counts N/7.", e.Message);
        Assert.StartsWith("Free GPU-equivalents first: Remove-Ds01Container a -Stop frees its GPU at once", e.RecommendedAction);
        Assert.Contains("Get-Ds01ResourceLimit", e.RecommendedAction);
    }

    [Fact]
    public void Quota_counts_held_slots_and_mig_weights()
    {
        // Seven 1g slots are one GPU-equivalent, held after stop or not.
        var holdings = new[]
        {
            HeldAfterStop("a._.1001", "alice", DateTimeOffset.UnixEpoch, "3.0", "3.1", "3.2"),
            Holds("b._.1001", "alice", "3.3", "3.4", "3.5", "3.6"),
        };
        Assert.Equal(1.0, SlotAllocator.UserWeight(A100, holdings, "alice"), 9);
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, holdings, Req(limit: 1, full: false)));
        Assert.Equal("GpuQuotaExceeded", e.ErrorId);
        Assert.StartsWith("alice holds 1.00 GPU-equivalents (GPU 3.0+3.1+3.2 in 'a', stopped but still held, GPU 3.3+3.4+3.5+3.6 in 'b'); " +
                          "this request (1 GPU slot) needs 0.14 more", e.Message);
        // Someone else's holdings are not alice's.
        Assert.Equal(0.0, SlotAllocator.UserWeight(A100, holdings, "bob"));
    }

    [Fact]
    public void Seven_sevenths_fit_a_limit_of_one_exactly()
    {
        var holdings = new[] { Holds("x._.1002", "bob", "2.0", "2.1", "2.2", "2.3") };
        var chosen = SlotAllocator.Choose(A100, holdings, Req(count: 7, limit: 1, full: false));
        Assert.Equal(new[] { "3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6" }, Ids(chosen).OrderBy(x => x));
    }

    [Fact]
    public void Users_allowed_full_gpus_get_full_gpus_first_lowest_id()
    {
        Assert.Equal(new[] { "0" }, Ids(SlotAllocator.Choose(A100, None, Req())));
        Assert.Equal(new[] { "1" }, Ids(SlotAllocator.Choose(A100, new[] { Holds("a", "bob", "0") }, Req())));
        Assert.Equal(new[] { "0", "1" }, Ids(SlotAllocator.Choose(A100, None, Req(count: 2))));
    }

    [Fact]
    public void Users_allowed_full_gpus_fall_back_to_mig_when_full_gpus_are_taken()
    {
        var holdings = new[] { Holds("a", "bob", "0"), Holds("b", "carol", "1") };
        Assert.Equal(new[] { "2.0" }, Ids(SlotAllocator.Choose(A100, holdings, Req())));
    }

    [Fact]
    public void Mig_only_users_never_get_a_full_gpu()
    {
        Assert.Equal(new[] { "2.0" }, Ids(SlotAllocator.Choose(A100, None, Req(full: false))));
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(H100, None, Req(full: false)));
        Assert.Equal("FullGpuNotAllowed", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.QuotaExceeded, e.Kind);
        Assert.Contains("no MIG slots", e.Message);
        var named = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, None, Req(slot: "1", full: false)));
        Assert.Equal("FullGpuNotAllowed", named.ErrorId);
    }

    [Fact]
    public void Least_loaded_gpu_wins_among_mig_slots()
    {
        // GPU 2 carries 3/7 after bob's 3g slot, GPU 3 carries 1/7: the next MIG slot goes on GPU 3.
        var holdings = new[] { Holds("a", "bob", "2.0"), Holds("b", "bob", "3.0") };
        Assert.Equal(new[] { "3.1" }, Ids(SlotAllocator.Choose(A100, holdings, Req(full: false))));
        // Loads are recounted after each pick, so two slots spread over both GPUs.
        Assert.Equal(new[] { "2.0", "3.0" }, Ids(SlotAllocator.Choose(A100, None, Req(count: 2, full: false))));
        // GPU 3 fuller than GPU 2: GPU 2 first.
        var busy3 = new[] { Holds("c", "bob", "3.0", "3.1", "3.2", "3.3") };
        Assert.Equal(new[] { "2.0" }, Ids(SlotAllocator.Choose(A100, busy3, Req(full: false))));
    }

    [Fact]
    public void Quota_is_checked_against_the_cheapest_feasible_choice()
    {
        // A full GPU (1.0) would pass a limit of 0.5; the preferred slot that fits is the 3g (3/7).
        Assert.Equal(new[] { "2.0" }, Ids(SlotAllocator.Choose(A100, None, Req(limit: 0.5))));
        // 0.3 leaves room for 2/7 only.
        Assert.Equal(new[] { "2.1" }, Ids(SlotAllocator.Choose(A100, None, Req(limit: 0.3))));
        // Below 1/7 nothing fits.
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, None, Req(limit: 0.1)));
        Assert.StartsWith("alice holds 0.00 GPU-equivalents; this request (1 GPU slot) needs 0.14 more; the limit is 0.10 (gpu_limit)", e.Message);
        Assert.StartsWith("Nothing is held by you now", e.RecommendedAction);
    }

    [Fact]
    public void Per_container_limit_counts_gpu_equivalents_of_the_chosen_slots()
    {
        Assert.Equal(new[] { "0", "1" }, Ids(SlotAllocator.Choose(A100, None, Req(count: 2, max: 2))));
        // Two full GPUs would be 2.0; within 1.0 the best is the 3g slot plus a 1g on the other GPU.
        Assert.Equal(new[] { "2.0", "3.0" }, Ids(SlotAllocator.Choose(A100, None, Req(count: 2, max: 1))));
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, None, Req(count: 2, max: 0.2)));
        Assert.Equal("GpuPerContainerLimitExceeded", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.QuotaExceeded, e.Kind);
        Assert.Contains("needs 0.29 GPU-equivalents", e.Message);
        Assert.Contains("0.20", e.Message);
        var full = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100.Where(s => !s.IsMig).ToList(), None, Req(count: 2, max: 1)));
        Assert.Equal("GpuPerContainerLimitExceeded", full.ErrorId);
    }

    [Fact]
    public void A_named_free_slot_is_given()
    {
        var chosen = SlotAllocator.Choose(A100, new[] { Holds("a", "bob", "2.0") }, Req(slot: "2.1", limit: 1));
        Assert.Equal("MIG-1b2c3d4e-0201-5000-9000-000000000201", Assert.Single(chosen).Uuid);
    }

    [Fact]
    public void A_named_busy_slot_is_refused_with_its_holder()
    {
        var e = Assert.Throws<Ds01Exception>(() =>
            SlotAllocator.Choose(A100, new[] { Holds("a._.1002", "bob", "2.1") }, Req(slot: "2.1")));
        Assert.Equal(Ds01ErrorKind.ResourceUnavailable, e.Kind);
        Assert.Equal("GpuSlotBusy", e.ErrorId);
        Assert.Contains("a._.1002 (bob)", e.Message);
    }

    [Fact]
    public void A_named_slot_still_respects_quota()
    {
        var e = Assert.Throws<Ds01Exception>(() =>
            SlotAllocator.Choose(A100, new[] { Holds("a", "alice", "2.0") }, Req(slot: "1", limit: 1)));
        Assert.Equal("GpuQuotaExceeded", e.ErrorId);
        Assert.Contains("holds 0.43", e.Message);
    }

    [Theory]
    [InlineData("2", "GPU 2 is in MIG mode")]
    [InlineData("9", "the slots on this machine are 0, 1, 2.0")]
    [InlineData("2.7", "the slots on this machine are")]
    [InlineData("gpu0", "the slots on this machine are")]
    public void An_unknown_slot_is_an_invalid_argument(string slot, string hint)
    {
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, None, Req(slot: slot)));
        Assert.Equal(Ds01ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal("UnknownGpuSlot", e.ErrorId);
        Assert.Contains(hint, e.Message);
    }

    [Fact]
    public void A_held_whole_gpu_label_blocks_the_mig_slots_of_that_gpu()
    {
        // A container still labelled with slot "2" from before GPU 2 was put in MIG mode.
        var holdings = new[] { Holds("old._.1002", "bob", "2") };
        Assert.Equal(new[] { "3.0" }, Ids(SlotAllocator.Choose(A100, holdings, Req(full: false))));
        Assert.Equal("GpuSlotBusy",
            Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, holdings, Req(slot: "2.3"))).ErrorId);
        // And a held MIG label blocks the full GPU of the same index.
        var h = new[] { Holds("old._.1002", "bob", "0.1") };
        Assert.Equal(new[] { "1" }, Ids(SlotAllocator.Choose(A100, h, Req())));
    }

    [Fact]
    public void Ds01_colon_slot_labels_hold_and_weigh_like_dotted_ones()
    {
        var holdings = new[] { Holds("legacy._.1001", "alice", "2:0", " 3:1") };
        Assert.Equal(3 / 7.0 + 1 / 7.0, SlotAllocator.UserWeight(A100, holdings, "alice"), 9);
        Assert.Equal("GpuSlotBusy",
            Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, holdings, Req(slot: "3.1", user: "bob"))).ErrorId);
        Assert.Equal(new[] { "3.0" }, Ids(SlotAllocator.Choose(A100, holdings, Req(full: false, user: "bob"))));
    }

    [Fact]
    public void A_held_slot_unknown_to_the_inventory_counts_as_a_full_gpu_for_quota()
    {
        Assert.Equal(1.0, SlotAllocator.UserWeight(A100, new[] { Holds("a", "alice", "7.3") }, "alice"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Count_below_one_is_invalid(int count)
    {
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, None, Req(count: count)));
        Assert.Equal("InvalidGpuCount", e.ErrorId);
    }

    [Fact]
    public void More_slots_than_the_machine_has_is_invalid_not_busy()
    {
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(H100, None, Req(count: 2)));
        Assert.Equal("TooManyGpusRequested", e.ErrorId);
        Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, None, Req(count: 2, slot: "0")));
    }

    [Fact]
    public void Not_enough_free_mig_slots_lists_only_the_relevant_busy_ones()
    {
        var holdings = new[] { Holds("big._.1002", "bob", "2.0", "2.1", "2.2", "2.3", "3.0", "3.1", "3.2", "3.3", "3.4"),
            Holds("full._.1003", "carol", "0") };
        var e = Assert.Throws<Ds01Exception>(() => SlotAllocator.Choose(A100, holdings, Req(count: 3, full: false)));
        Assert.Equal("NoFreeGpu", e.ErrorId);
        Assert.Contains("2 of 11 are free (3.5, 3.6)", e.Message);
        Assert.Contains("3.4 allocated to big._.1002 (bob)", e.Message);
        Assert.DoesNotContain("full._.1003", e.Message);
    }
}

using Ds01.Core.Naming;
using System.Globalization;

namespace Ds01.Core.Gpu;

public enum GpuHoldingState
{
    /// <summary>The container exists and has the slots (running or not yet past its hold).</summary>
    Allocated,
    /// <summary>The container stopped; its slots stay reserved for it until HoldExpiresAt.</summary>
    Held,
}

/// <summary>Slots a container holds. Only holdings that still hold are passed to the allocator.</summary>
public sealed record GpuHolding(string Container, string User, IReadOnlyList<string> Slots, GpuHoldingState State,
    DateTimeOffset? HoldExpiresAt);

/// <summary>
/// A request for GPU slots for one container. GpuLimit is the user's total in GPU-equivalents (null: unlimited);
/// MaxGpusPerContainer is the most GPU-equivalents one container may hold (null: unlimited).
/// </summary>
public sealed record GpuRequest(string User, int Count, string? Slot, double? GpuLimit, double? MaxGpusPerContainer,
    bool AllowFullGpu);

/// <summary>
/// Chooses slots for a request. Pure and fast (no I/O) so callers can run it inside the allocation lock with the
/// holdings they just read from Docker. It never picks a slot any holding covers, and never lets a user's
/// GPU-equivalents (all their holdings, held ones included, plus the new slots) pass the limit.
/// </summary>
public static class SlotAllocator
{
    /// <summary>Slack for sums of sevenths, so 7 x 1/7 fits a limit of 1.0.</summary>
    public const double Epsilon = 1e-9;

    public static IReadOnlyList<Ds01GpuSlot> Choose(IReadOnlyList<Ds01GpuSlot> slots, IReadOnlyList<GpuHolding> holdings,
        GpuRequest request)
    {
        Check(request);
        var holders = Holders(slots, holdings);
        var used = UserWeight(slots, holdings, request.User);
        var allowed = slots.Where(s => request.AllowFullGpu || s.IsMig).ToList();

        if (request.Slot is not null) return ChooseNamed(slots, holdings, holders, used, request);

        if (!request.AllowFullGpu && allowed.Count == 0)
            throw FullGpuNotAllowed(request, "this machine has no MIG slots, only full GPUs");
        if (allowed.Count < request.Count)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "TooManyGpusRequested",
                $"The request asks for {request.Count} GPU slots; this machine has {allowed.Count} {(request.AllowFullGpu ? "" : "MIG ")}slots in all.",
                request.Count, "Ask for fewer GPUs.");

        // Limits first against the cheapest slots of any state: if even those do not fit, waiting cannot help.
        CheckLimits(request, used, CheapestSum(allowed, request.Count), holdings);

        var free = allowed.Where(s => !holders.ContainsKey(s.Slot)).ToList();
        if (free.Count < request.Count) throw NoFreeGpu(slots, allowed, holders, used, request);

        var budget = Math.Min(request.MaxGpusPerContainer ?? double.PositiveInfinity,
            request.GpuLimit is { } limit ? limit - used : double.PositiveInfinity);
        CheckLimits(request, used, CheapestSum(free, request.Count), holdings);
        return PickPreferred(free, slots, holders, budget, request);
    }

    /// <summary>GPU-equivalents a user holds now, held (stopped) containers included.</summary>
    public static double UserWeight(IReadOnlyList<Ds01GpuSlot> slots, IReadOnlyList<GpuHolding> holdings, string user)
    {
        var byId = slots.ToDictionary(s => s.Slot, StringComparer.Ordinal);
        return holdings.Where(h => string.Equals(h.User, user, StringComparison.Ordinal))
            .SelectMany(h => h.Slots)
            .Sum(id => HeldSlotWeight(byId, id));
    }

    /// <summary>
    /// Weight of a held slot id. One that is not in the inventory (the GPU was re-partitioned, a label is damaged)
    /// counts as a full GPU: overcounting blocks a user, undercounting hands out more than the quota allows.
    /// </summary>
    private static double HeldSlotWeight(Dictionary<string, Ds01GpuSlot> byId, string id) =>
        byId.TryGetValue(Ds01GpuSlot.NormalizeSlotId(id), out var s) ? s.Weight : 1.0;

    /// <summary>
    /// Which holding covers each slot. A held full GPU "2" also covers MIG slots "2.x" and a held "2.x" covers "2",
    /// so a GPU re-partitioned under a running container is never handed out again.
    /// </summary>
    private static Dictionary<string, GpuHolding> Holders(IReadOnlyList<Ds01GpuSlot> slots, IReadOnlyList<GpuHolding> holdings)
    {
        var result = new Dictionary<string, GpuHolding>(StringComparer.Ordinal);
        foreach (var h in holdings)
        foreach (var raw in h.Slots)
        {
            var id = Ds01GpuSlot.NormalizeSlotId(raw);
            var parsed = Ds01GpuSlot.TryParseSlotId(id, out var index, out var device);
            foreach (var s in slots)
            {
                var covers = s.Slot == id || (parsed && s.Index == index && (device is null || !s.IsMig));
                if (covers) result.TryAdd(s.Slot, h);
            }
        }
        return result;
    }

    private static IReadOnlyList<Ds01GpuSlot> ChooseNamed(IReadOnlyList<Ds01GpuSlot> slots, IReadOnlyList<GpuHolding> holdings,
        Dictionary<string, GpuHolding> holders, double used, GpuRequest request)
    {
        var id = request.Slot!.Trim();
        if (request.Count != 1)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuCount",
                $"A named slot ('{id}') is one slot; the request asks for {request.Count}.", request.Count,
                "Name one slot, or ask for a number of GPUs without naming a slot.");
        var slot = slots.FirstOrDefault(s => s.Slot == id);
        if (slot is null)
        {
            var migOfGpu = Ds01GpuSlot.TryParseSlotId(id, out var index, out var device) && device is null
                ? slots.Where(s => s.IsMig && s.Index == index).Select(s => s.Slot).ToList() : new List<string>();
            var why = migOfGpu.Count > 0
                ? $"GPU {id} is in MIG mode, so it is not a slot itself; its slots are {string.Join(", ", migOfGpu)}"
                : $"the slots on this machine are {(slots.Count == 0 ? "none" : string.Join(", ", slots.Select(s => s.Slot)))}";
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "UnknownGpuSlot", $"There is no GPU slot '{id}': {why}.",
                id, "Get-Ds01Gpu lists the slots.");
        }
        if (!slot.IsMig && !request.AllowFullGpu)
            throw FullGpuNotAllowed(request, $"slot {slot.Slot} is a full GPU");
        if (holders.TryGetValue(slot.Slot, out var holder))
            throw new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "GpuSlotBusy",
                $"GPU slot {slot.Slot} is {Describe(holder)}.", slot.Slot,
                "Ask for a number of GPUs instead of this slot, or wait until it is free (-Wait).");
        CheckLimits(request, used, slot.Weight, holdings);
        return new[] { slot };
    }

    /// <summary>
    /// Takes one slot at a time, most preferred first, as long as the rest can still be completed within the budget
    /// with the cheapest remaining slots; loads are updated after each pick so a multi-slot request spreads out.
    /// </summary>
    private static List<Ds01GpuSlot> PickPreferred(List<Ds01GpuSlot> free, IReadOnlyList<Ds01GpuSlot> slots,
        Dictionary<string, GpuHolding> holders, double budget, GpuRequest request)
    {
        var load = new Dictionary<int, double>();
        foreach (var s in slots)
            if (holders.ContainsKey(s.Slot)) load[s.Index] = load.GetValueOrDefault(s.Index) + s.Weight;

        var remaining = new List<Ds01GpuSlot>(free);
        var chosen = new List<Ds01GpuSlot>();
        var spent = 0.0;
        while (chosen.Count < request.Count)
        {
            var left = request.Count - chosen.Count - 1;
            remaining.Sort((a, b) => Preference(a, b, load, request.AllowFullGpu));
            Ds01GpuSlot? pick = null;
            foreach (var s in remaining)
            {
                var rest = remaining.Where(r => !ReferenceEquals(r, s)).Select(r => r.Weight).OrderBy(w => w).Take(left).Sum();
                if (spent + s.Weight + rest <= budget + Epsilon) { pick = s; break; }
            }
            // The limits were checked against the cheapest choice, so a pick always exists; guard anyway.
            if (pick is null)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "GpuAllocationInconsistent",
                    "No slot combination fits the limits although the cheapest one did.", request);
            chosen.Add(pick);
            remaining.Remove(pick);
            spent += pick.Weight;
            load[pick.Index] = load.GetValueOrDefault(pick.Index) + pick.Weight;
        }
        return chosen;
    }

    /// <summary>As DS01 does: full GPUs first for users allowed them (otherwise only MIG is a candidate), then the
    /// physical GPU with the least allocated weight, then the lowest slot id.</summary>
    private static int Preference(Ds01GpuSlot a, Ds01GpuSlot b, Dictionary<int, double> load, bool allowFull)
    {
        if (allowFull && a.IsMig != b.IsMig) return a.IsMig ? 1 : -1;
        var la = load.GetValueOrDefault(a.Index);
        var lb = load.GetValueOrDefault(b.Index);
        if (Math.Abs(la - lb) > Epsilon) return la.CompareTo(lb);
        return Ds01GpuSlot.CompareSlotIds(a.Slot, b.Slot);
    }

    private static double CheapestSum(IEnumerable<Ds01GpuSlot> slots, int count) =>
        slots.Select(s => s.Weight).OrderBy(w => w).Take(count).Sum();

    private static void CheckLimits(GpuRequest request, double used, double need, IReadOnlyList<GpuHolding> holdings)
    {
        // MaxGpusPerContainer counts GPU-equivalents of the chosen slots (the GPU quota unit is the
        // GPU-equivalent), so two 1g slots (2/7) fit a limit of 1 while two full GPUs do not.
        if (request.MaxGpusPerContainer is { } max && need > max + Epsilon)
            throw new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "GpuPerContainerLimitExceeded",
                $"This request needs {F(need)} GPU-equivalents for one container; {request.User}'s limit per container is {F(max)}.",
                request.User, "Ask for fewer or smaller GPU slots, or split the work over several containers.");
        if (request.GpuLimit is { } limit && used + need > limit + Epsilon)
            throw QuotaExceeded(request.User, request.Slot is not null ? $"slot {request.Slot.Trim()}" : $"{request.Count} GPU slot{(request.Count == 1 ? "" : "s")}",
                used, need, limit, holdings);
    }

    /// <summary>
    /// The quota refusal a newcomer can act on: what they hold (which containers, and whether a stopped one only
    /// keeps its hold), what this request asks for, the limit, and which command frees what.
    /// </summary>
    /// <param name="asked">What the request asks for, in words ("1 GPU slot", "slot 2.1").</param>
    public static Ds01Exception QuotaExceeded(string user, string asked, double used, double need, double limit, IReadOnlyList<GpuHolding> holdings)
    {
        var mine = holdings.Where(h => string.Equals(h.User, user, StringComparison.Ordinal) && h.Slots.Count > 0).ToList();
        string Short(GpuHolding h) => ContainerNaming.ParseTag(h.Container).Name;
        var held = mine.Count == 0 ? "" : " (" + string.Join(", ", mine.Select(h =>
            $"GPU {string.Join("+", h.Slots)} in '{Short(h)}'{(h.State == GpuHoldingState.Held ? ", stopped but still held" : "")}")) + ")";
        var message = $"{user} holds {F(used)} GPU-equivalents{held}; this request ({asked}) needs {F(need)} more; " +
                      $"the limit is {F(limit)} (gpu_limit), so {F(used + need)} would be over it. A full GPU counts 1.00, a MIG slice Ng counts N/7.";
        var free = mine.Count > 0
            ? $"Free GPU-equivalents first: Remove-Ds01Container {Short(mine[0])} -Stop frees its GPU at once (Stop-Ds01Container alone keeps the hold for a while)"
            : "Nothing is held by you now, so this request alone is over the limit: ask for fewer or smaller slots";
        return new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "GpuQuotaExceeded", message, user,
            $"{free}; or ask for a smaller MIG slot (Get-Ds01Gpu lists them), or -GpuCount 0 for CPU only. Get-Ds01ResourceLimit shows your limits; an admin can raise gpu_limit.");
    }

    // allow_full_gpu is a per-user/group limit from resource-limits.yaml like the quota, so a refusal is reported
    // as QuotaExceeded: the request exceeds what the user's limits allow, not what they are permitted to run at all.
    private static Ds01Exception FullGpuNotAllowed(GpuRequest request, string why) =>
        new(Ds01ErrorKind.QuotaExceeded, "FullGpuNotAllowed",
            $"{request.User} may use MIG slots only (allow_full_gpu is false), and {why}.", request.User,
            "Ask for a MIG slot, or ask an admin for full-GPU access.");

    private static Ds01Exception NoFreeGpu(IReadOnlyList<Ds01GpuSlot> slots, List<Ds01GpuSlot> allowed,
        Dictionary<string, GpuHolding> holders, double used, GpuRequest request)
    {
        var free = allowed.Where(s => !holders.ContainsKey(s.Slot)).Select(s => s.Slot).ToList();
        var busy = allowed.Where(s => holders.ContainsKey(s.Slot))
            .Select(s => $"{s.Slot} {Describe(holders[s.Slot])}");
        var kind = request.AllowFullGpu ? "GPU" : "MIG";
        var quota = request.GpuLimit is { } limit
            ? $" {request.User} holds {F(used)} of {F(limit)} GPU-equivalents."
            : "";
        return new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "NoFreeGpu",
            $"Not enough free {kind} slots: the request needs {request.Count}, {free.Count} of {allowed.Count} are free" +
            (free.Count > 0 ? $" ({string.Join(", ", free)})" : "") + $". Busy: {string.Join("; ", busy)}.{quota}",
            request.User, "Try again later, ask for fewer GPUs, or wait in the queue (-Wait -TimeoutSec).");
    }

    private static string Describe(GpuHolding h) => h.State == GpuHoldingState.Held
        ? $"held for stopped container {h.Container} ({h.User})" +
          (h.HoldExpiresAt is { } t ? $" until {t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC" : "")
        : $"allocated to {h.Container} ({h.User})";

    private static void Check(GpuRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.User))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuRequest", "A GPU request needs a user.", request);
        if (request.Count < 1)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuCount",
                $"A GPU request asks for at least one slot, not {request.Count}.", request.Count,
                "Leave GPUs out for a CPU-only container.");
        if (request.GpuLimit is < 0 || request.MaxGpusPerContainer is < 0 ||
            request.GpuLimit is { } g && !double.IsFinite(g) || request.MaxGpusPerContainer is { } m && !double.IsFinite(m))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuRequest",
                "GPU limits must be finite numbers of 0 or more (null means unlimited).", request);
    }

    private static string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
}

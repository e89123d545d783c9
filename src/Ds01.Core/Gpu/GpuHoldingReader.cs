using System.Globalization;
using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Naming;

namespace Ds01.Core.Gpu;

/// <summary>A container's hold on slots, with the facts the views need.</summary>
public sealed record GpuHoldingInfo(GpuHolding Holding, string Tag, string Uuids, DateTimeOffset? AllocatedAt, double Weight);

/// <summary>
/// Reads who holds which slots from Docker itself (stateless: labels ds01.gpu.slots/uuids, and DeviceRequests of
/// running containers made outside Ds01). One list call; an inspect only for the few containers whose stop time
/// matters (stopped within the hold window) or that use GPUs without our labels. An unreachable engine is an
/// error, never an empty list: that is how the original handed one GPU to many.
/// </summary>
public sealed class GpuHoldingReader
{
    public const double DefaultHoldMinutes = 15;
    private readonly IContainerApi _docker;
    private readonly TimeProvider _clock;

    private readonly GpuReservations? _reservations;
    private readonly Func<string, ReservationHolder?>? _holders;

    /// <summary>The account a reservation names and its GPU quota.</summary>
    public sealed record ReservationHolder(int Uid, double? GpuLimit);

    /// <param name="reservations">Slots of creates Docker has not answered yet (see GpuReservations); they hold too.</param>
    /// <param name="holders">Looks up the user a reservation names; with it, a reservation counts only when its file is that
    /// user's (or root's) and only within that user's GPU quota, so a forged one hurts only whoever wrote it.</param>
    public GpuHoldingReader(IContainerApi docker, TimeProvider clock, GpuReservations? reservations = null, Func<string, ReservationHolder?>? holders = null)
    {
        _docker = docker;
        _clock = clock;
        _reservations = reservations;
        _holders = holders;
    }

    public async Task<IReadOnlyList<GpuHoldingInfo>> ReadAsync(IReadOnlyList<Ds01GpuSlot> slots, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        var all = await _docker.ListContainersAsync(null, ct).ConfigureAwait(false);
        var result = new List<GpuHoldingInfo>();
        var inspects = new List<Task<GpuHoldingInfo?>>();
        foreach (var c in all)
        {
            var labels = c.Labels ?? new Dictionary<string, string>();
            var tag = c.Names?.FirstOrDefault()?.TrimStart('/') ?? c.ID;
            if (labels.TryGetValue(Labels.GpuSlots, out var slotText) && !string.IsNullOrWhiteSpace(slotText))
            {
                var state = DockerStatus.State(c.State);
                if (state != ContainerState.Stopped)
                {
                    result.Add(Info(c.ID, tag, labels, slotText, GpuHoldingState.Allocated, null, slots));
                    continue;
                }
                var hold = TimeSpan.FromMinutes(HoldMinutes(labels));
                // Docker's status text floors seconds and minutes but rounds hours to the nearest (and days from those):
                // past the hold by more than that rounding, the hold is surely over and no inspect is needed.
                var (_, approxStop) = DockerStatus.Times(c.Status, now);
                if (approxStop is { } s)
                {
                    var age = now - s;
                    var rounding = age >= TimeSpan.FromHours(1) ? TimeSpan.FromMinutes(30) : TimeSpan.FromMinutes(1);
                    if (age - rounding > hold) continue;
                }
                inspects.Add(ExactHoldAsync(c.ID, tag, labels, slotText, hold, now, slots, ct));
            }
            // Running without our slot label: a container made outside Ds01 (or by the original DS01) may still use GPUs,
            // unless it is one of ours that was created CPU-only.
            else if (DockerStatus.State(c.State) is ContainerState.Running or ContainerState.Paused &&
                     !(labels.TryGetValue(Labels.AimeGpus, out var g) && g == "0" && labels.ContainsKey(Labels.Managed)))
            {
                inspects.Add(ForeignAsync(c.ID, tag, labels, slots, ct));
            }
        }
        foreach (var info in await Task.WhenAll(inspects).ConfigureAwait(false))
            if (info is not null) result.Add(info);
        if (_reservations is not null)
        {
            var existing = all.SelectMany(c => c.Names ?? new List<string>()).Select(n => n.TrimStart('/')).ToHashSet(StringComparer.Ordinal);
            var used = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var h in result) used[h.Holding.User] = used.GetValueOrDefault(h.Holding.User) + h.Weight;
            foreach (var r in _reservations.Live(existing).OrderBy(r => r.CreatedAt))
            {
                var ids = HeldSlots(string.Join(",", r.Slots), string.Join(",", r.Uuids), slots);
                if (_holders is not null)
                {
                    // Anyone may drop a file in the sticky directory: the kernel's owner must be the holder it names (or
                    // root acting for them), and it counts against that holder's own quota, never past it.
                    if (_holders(r.User) is not { } holder || (r.FileUid is { } fileUid && fileUid != 0 && fileUid != holder.Uid)) continue;
                    var weight = Weight(ids, slots);
                    if (holder.GpuLimit is { } limit && used.GetValueOrDefault(r.User) + weight > limit + SlotAllocator.Epsilon) continue;
                    used[r.User] = used.GetValueOrDefault(r.User) + weight;
                }
                result.Add(new GpuHoldingInfo(new GpuHolding(r.Tag, r.User, ids, GpuHoldingState.Allocated, null), r.Tag,
                    string.Join(",", r.Uuids), r.CreatedAt, Weight(ids, slots)));
            }
        }
        return result;
    }

    public static double HoldMinutes(IDictionary<string, string> labels) => Labels.HoldMinutes(labels);

    private async Task<GpuHoldingInfo?> ExactHoldAsync(string id, string tag, IDictionary<string, string> labels, string slotText,
        TimeSpan hold, DateTimeOffset now, IReadOnlyList<Ds01GpuSlot> slots, CancellationToken ct)
    {
        var c = await _docker.InspectContainerAsync(id, ct).ConfigureAwait(false);
        if (c is null) return null; // removed meanwhile: holds nothing
        if (c.State?.Running == true || c.State?.Paused == true) return Info(id, tag, labels, slotText, GpuHoldingState.Allocated, null, slots);
        // No state reported reads as never started: allocated, so the slot is not given away.
        var finished = ContainerMapper.ParseTime(c.State?.FinishedAt);
        // Never started (created) counts as allocated: the slot was promised at create.
        if (finished is null) return Info(id, tag, labels, slotText, GpuHoldingState.Allocated, null, slots);
        var expires = finished.Value + hold;
        return expires > now ? Info(id, tag, labels, slotText, GpuHoldingState.Held, expires, slots) : null;
    }

    private async Task<GpuHoldingInfo?> ForeignAsync(string id, string tag, IDictionary<string, string> labels,
        IReadOnlyList<Ds01GpuSlot> slots, CancellationToken ct)
    {
        var c = await _docker.InspectContainerAsync(id, ct).ConfigureAwait(false);
        if (c is null) return null;
        var held = DeviceSlots(c, slots);
        if (held.Count == 0) return null;
        var owner = Labels.Owner(labels) ?? "(docker)";
        return new GpuHoldingInfo(new GpuHolding(tag, owner, held, GpuHoldingState.Allocated, null), tag, "", null, Weight(held, slots));
    }

    /// <summary>
    /// Slots a container uses without our label: HostConfig.DeviceRequests (ids, or a count: every GPU, assuming the
    /// worst) and NVIDIA_VISIBLE_DEVICES for the nvidia runtime (how DS01 attached several MIG devices).
    /// </summary>
    public static IReadOnlyList<string> DeviceSlots(ContainerInspectResponse c, IReadOnlyList<Ds01GpuSlot> slots)
    {
        var byUuid = ByUuid(slots);
        var held = new List<string>();
        string Map(string d) => byUuid.TryGetValue(d, out var s) ? s : Ds01GpuSlot.NormalizeSlotId(d);
        foreach (var r in c.HostConfig?.DeviceRequests ?? new List<DeviceRequest>())
        {
            if (r.DeviceIDs is { Count: > 0 }) held.AddRange(r.DeviceIDs.Select(Map));
            else if (r.Count != 0) held.AddRange(slots.Select(s => s.Slot));
        }
        var visible = c.Config?.Env?.FirstOrDefault(e => e.StartsWith("NVIDIA_VISIBLE_DEVICES=", StringComparison.Ordinal))?.Substring(23).Trim();
        if (!string.IsNullOrEmpty(visible) && visible is not ("none" or "void"))
        {
            if (visible == "all") held.AddRange(slots.Select(s => s.Slot));
            else held.AddRange(visible!.Split(',').Select(v => Map(v.Trim())).Where(v => v.Length > 0));
        }
        return held.Distinct().ToList();
    }

    // First slot per UUID: a malformed inventory must not make every reader throw.
    private static Dictionary<string, string> ByUuid(IReadOnlyList<Ds01GpuSlot> slots)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in slots) map.TryAdd(s.Uuid, s.Slot);
        return map;
    }

    /// <summary>
    /// The slots a labelled container holds, keyed by GPU UUID: indexes change when a GPU is added, removed or
    /// re-enumerated, UUIDs do not. The slot ids in ds01.gpu.slots count only for containers without UUIDs
    /// (labelled by the original DS01). A UUID that is not on this machine any more holds nothing here.
    /// </summary>
    public static IReadOnlyList<string> HeldSlots(string slotText, string? uuidText, IReadOnlyList<Ds01GpuSlot> slots)
    {
        var uuids = (uuidText ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (uuids.Length > 0)
        {
            var byUuid = ByUuid(slots);
            return uuids.Select(u => byUuid.TryGetValue(u, out var slot) ? slot : u).Distinct().ToList();
        }
        return slotText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Ds01GpuSlot.NormalizeSlotId).Distinct().ToList();
    }

    private static GpuHoldingInfo Info(string id, string tag, IDictionary<string, string> labels, string slotText, GpuHoldingState state,
        DateTimeOffset? expires, IReadOnlyList<Ds01GpuSlot> slots)
    {
        labels.TryGetValue(Labels.GpuUuids, out var uuids);
        var ids = HeldSlots(slotText, uuids, slots);
        var user = Labels.Owner(labels) ?? "";
        labels.TryGetValue(Labels.GpuAllocated, out var at);
        DateTimeOffset? allocatedAt = DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
        return new GpuHoldingInfo(new GpuHolding(tag, user, ids, state, expires), tag, uuids ?? "", allocatedAt, Weight(ids, slots));
    }

    private static double Weight(IEnumerable<string> ids, IReadOnlyList<Ds01GpuSlot> slots) =>
        ids.Sum(id => slots.FirstOrDefault(s => s.Slot == id)?.Weight ?? 1.0);
}

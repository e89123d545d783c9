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
    private readonly IContainerEngine _docker;
    private readonly TimeProvider _clock;

    public GpuHoldingReader(IContainerEngine docker, TimeProvider clock)
    {
        _docker = docker;
        _clock = clock;
    }

    public async Task<IReadOnlyList<GpuHoldingInfo>> ReadAsync(IReadOnlyList<Ds01GpuSlot> slots, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        var all = await _docker.ListContainersAsync(null, ct).ConfigureAwait(false);
        var byUuid = slots.ToDictionary(s => s.Uuid, s => s.Slot, StringComparer.OrdinalIgnoreCase);
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
                // Docker's status text rounds down, so its age is a lower bound: past the hold it is surely free.
                var (_, approxStop) = DockerStatus.Times(c.Status, now);
                if (approxStop is { } s && now - s > hold) continue;
                inspects.Add(ExactHoldAsync(c.ID, tag, labels, slotText, hold, now, slots, ct));
            }
            else if (DockerStatus.State(c.State) is ContainerState.Running or ContainerState.Paused && !labels.ContainsKey(Labels.Managed))
            {
                inspects.Add(ForeignAsync(c.ID, tag, labels, byUuid, slots, ct));
            }
        }
        foreach (var info in await Task.WhenAll(inspects).ConfigureAwait(false))
            if (info is not null) result.Add(info);
        return result;
    }

    public static double HoldMinutes(IDictionary<string, string> labels) =>
        labels.TryGetValue(Labels.GpuHoldMinutes, out var m) && double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : DefaultHoldMinutes;

    private async Task<GpuHoldingInfo?> ExactHoldAsync(string id, string tag, IDictionary<string, string> labels, string slotText,
        TimeSpan hold, DateTimeOffset now, IReadOnlyList<Ds01GpuSlot> slots, CancellationToken ct)
    {
        var c = await _docker.InspectContainerAsync(id, ct).ConfigureAwait(false);
        if (c is null) return null; // removed meanwhile: holds nothing
        if (c.State.Running || c.State.Paused) return Info(id, tag, labels, slotText, GpuHoldingState.Allocated, null, slots);
        var finished = ContainerMapper.ParseTime(c.State.FinishedAt);
        // Never started (created) counts as allocated: the slot was promised at create.
        if (finished is null) return Info(id, tag, labels, slotText, GpuHoldingState.Allocated, null, slots);
        var expires = finished.Value + hold;
        return expires > now ? Info(id, tag, labels, slotText, GpuHoldingState.Held, expires, slots) : null;
    }

    private async Task<GpuHoldingInfo?> ForeignAsync(string id, string tag, IDictionary<string, string> labels,
        Dictionary<string, string> byUuid, IReadOnlyList<Ds01GpuSlot> slots, CancellationToken ct)
    {
        var c = await _docker.InspectContainerAsync(id, ct).ConfigureAwait(false);
        var requests = c?.HostConfig?.DeviceRequests;
        if (requests is null || requests.Count == 0) return null;
        var held = new List<string>();
        foreach (var r in requests)
        {
            if (r.DeviceIDs is { Count: > 0 })
                held.AddRange(r.DeviceIDs.Select(d => byUuid.TryGetValue(d, out var s) ? s : d));
            else if (r.Count != 0)
                held.AddRange(slots.Select(s => s.Slot)); // --gpus all / N without ids: assume the worst, every GPU
        }
        if (held.Count == 0) return null;
        var owner = Labels.Owner(labels) ?? "(docker)";
        return new GpuHoldingInfo(new GpuHolding(tag, owner, held.Distinct().ToList(), GpuHoldingState.Allocated, null), tag, "", null,
            Weight(held, slots));
    }

    private static GpuHoldingInfo Info(string id, string tag, IDictionary<string, string> labels, string slotText, GpuHoldingState state,
        DateTimeOffset? expires, IReadOnlyList<Ds01GpuSlot> slots)
    {
        var ids = slotText.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(s => Ds01GpuSlot.NormalizeSlotId(s.Trim())).ToList();
        var user = Labels.Owner(labels) ?? "";
        labels.TryGetValue(Labels.GpuUuids, out var uuids);
        labels.TryGetValue(Labels.GpuAllocated, out var at);
        DateTimeOffset? allocatedAt = DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
        return new GpuHoldingInfo(new GpuHolding(tag, user, ids, state, expires), tag, uuids ?? "", allocatedAt, Weight(ids, slots));
    }

    private static double Weight(IEnumerable<string> ids, IReadOnlyList<Ds01GpuSlot> slots) =>
        ids.Sum(id => slots.FirstOrDefault(s => s.Slot == id)?.Weight ?? 1.0);
}

using System.Globalization;
using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Naming;

namespace Ds01.Core.Gpu;

/// <summary>
/// GPU allocation for containers. The slot is chosen and the container that records it in its labels is created
/// inside one hold of an exclusive file lock, so two creates in separate processes can never get the same slot; a
/// lock that cannot be taken in time is an error (never a pass). Quota and priority come from resource-limits.yaml.
/// </summary>
public sealed class GpuService : IGpuPlacement
{
    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;
    private readonly GpuHoldingReader _reader;
    private IReadOnlyList<Ds01GpuSlot>? _slots;

    public GpuService(Ds01Session session, IContainerEngine docker)
    {
        _session = session;
        _docker = docker;
        Reservations = new GpuReservations(session.Paths.StateDir, session.Clock);
        _reader = new GpuHoldingReader(docker, session.Clock, Reservations, name =>
            session.Identities.FindByName(name) is { } holder ? new GpuHoldingReader.ReservationHolder(holder.Uid, session.LimitsFor(holder).GpuLimit) : null);
    }

    /// <summary>Slots of creates in flight; they stay taken until Docker has answered (a killed create may still land).</summary>
    public GpuReservations Reservations { get; }

    public GpuConfig Config => _session.Config.Gpu;

    /// <summary>The slots of this machine (nvidia-smi or the static list), read once per command.</summary>
    public IReadOnlyList<Ds01GpuSlot> Slots => _slots ??= new GpuInventory().Load(Config);

    public GpuQueue Queue => new(_session.Paths.StateDir, _session.Clock);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan ServicePollInterval = TimeSpan.FromSeconds(2);

    // The only caller of AllocationLock.Acquire in the product (tests/Unit/Gpu/AllocationLockOwnerTests checks it).
    private AllocationLock Lock() => AllocationLock.Acquire(_session.Paths.AllocationLockFile, Config.LockTimeout);

    public Task<IReadOnlyList<GpuHoldingInfo>> HoldingsAsync(CancellationToken ct) => _reader.ReadAsync(Slots, ct);

    // ---------- allocation ----------

    private static GpuRequest ToRequest(GpuPlacementRequest req) =>
        new(req.User.Name, req.Count, req.Slot, req.Limits.GpuLimit, req.Limits.MaxGpusPerContainer, req.Limits.AllowFullGpu);

    public async Task PrecheckAsync(GpuPlacementRequest req, CancellationToken ct)
    {
        var holdings = (await HoldingsAsync(ct).ConfigureAwait(false)).Select(h => h.Holding).ToList();
        try
        {
            SlotAllocator.Choose(Slots, holdings, ToRequest(req));
        }
        catch (Ds01Exception e) when (e.Kind != Ds01ErrorKind.ResourceUnavailable || !req.Wait)
        {
            Log("gpu.reject", req, new Dictionary<string, object?> { ["reason"] = e.ErrorId, ["message"] = e.Message });
            throw;
        }
        catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.ResourceUnavailable)
        {
            // Busy but willing to wait: PlaceAsync queues it.
        }
    }

    /// <summary>
    /// The create's critical section. Under one hold of the allocation lock: choose the slots (when GPUs are asked
    /// for) and run <paramref name="create"/> with them, so the container that records them in its labels exists
    /// before any other create can look. CPU-only creates (request null) take the same lock, so their own checks
    /// inside <paramref name="create"/> (max_containers) see every other create finished. With Wait, a busy
    /// machine queues the request by priority until the deadline.
    /// </summary>
    public async Task<T> PlaceAsync<T>(GpuPlacementRequest? req, Func<GpuAssignment?, Task<T>> create, CancellationToken ct)
    {
        if (req is null)
        {
            using (Lock()) return await create(null).ConfigureAwait(false);
        }
        var request = ToRequest(req);
        var slots = Slots;
        var deadline = _session.Clock.GetUtcNow() + req.WaitTimeout;
        GpuQueueEntry? queued = null;
        try
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                using (Lock())
                {
                    var holdings = (await HoldingsAsync(ct).ConfigureAwait(false)).Select(h => h.Holding).ToList();
                    IReadOnlyList<Ds01GpuSlot>? chosen = null;
                    Ds01Exception? unavailable = null;
                    try
                    {
                        chosen = SlotAllocator.Choose(slots, holdings, request);
                    }
                    catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.ResourceUnavailable)
                    {
                        unavailable = e;
                        // Under ds01d the service's view binds (every user's creates in flight, its queue across users): a
                        // -Wait request asks it all the same, for the slots it would get on an idle machine, so ds01d
                        // gives it its place in line; ds01d's refusal brings it back here to wait.
                        if (req.Wait && _session.ViaService) chosen = ChooseOnIdle(slots, request);
                    }
                    catch (Ds01Exception e)
                    {
                        Log("gpu.reject", req, new Dictionary<string, object?> { ["reason"] = e.ErrorId, ["message"] = e.Message });
                        throw;
                    }
                    if (chosen is not null && WaiterAhead(queued, req.Limits.Priority, slots, holdings) is { } ahead)
                    {
                        chosen = null;
                        unavailable = new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "GpuQueuedAhead",
                            $"A free GPU is promised to a waiting request of priority {ahead.Priority} ({ahead.User}, {ahead.Container}).", req.ContainerTag,
                            "Use -Wait to queue for the next one.");
                    }

                    if (chosen is not null)
                    {
                        var assignment = new GpuAssignment(chosen.Select(s => s.Slot).ToList(), chosen.Select(s => s.Uuid).ToList(), chosen.Sum(s => s.Weight),
                            req.Limits.GpuHoldAfterStopMinutes) { WaitUntil = req.Wait && _session.ViaService ? deadline : null, WaitCount = req.Count, WaitSlot = req.Slot };
                        var reservation = Reservations.Reserve(req.ContainerTag, req.User.Name, assignment.Slots, assignment.Uuids);
                        T result = default!;
                        var made = false;
                        try
                        {
                            result = await create(assignment).ConfigureAwait(false);
                            made = true;
                        }
                        catch (Ds01Exception e) when (e.Kind is not (Ds01ErrorKind.ConnectionError or Ds01ErrorKind.OperationTimeout))
                        {
                            // Docker answered with an error: nothing was made, the slot is free again. A timeout or a lost
                            // connection is no answer, so the reservation stays until the container appears or ages out.
                            Reservations.Release(reservation);
                            // Under ds01d the service decides, with every user's holdings and its own queue: a busy slot or a
                            // waiter ahead of this one is a place in line for a -Wait request (ds01d keeps it), not the end.
                            if (!(req.Wait && _session.ViaService && e.Kind == Ds01ErrorKind.ResourceUnavailable && _session.Clock.GetUtcNow() < deadline)) throw;
                            unavailable = e;
                        }
                        if (made)
                        {
                            Reservations.Release(reservation);
                            Log("gpu.allocate", req, new Dictionary<string, object?>
                            {
                                ["slots"] = string.Join(",", assignment.Slots), ["uuids"] = string.Join(",", assignment.Uuids),
                                ["weight"] = Math.Round(assignment.Weight, 4), ["queued"] = queued is not null,
                            });
                            return result;
                        }
                    }
                    if (!req.Wait || _session.Clock.GetUtcNow() >= deadline)
                    {
                        Log("gpu.reject", req, new Dictionary<string, object?> { ["reason"] = unavailable!.ErrorId, ["message"] = unavailable.Message });
                        if (req.Wait)
                            throw new Ds01Exception(Ds01ErrorKind.OperationTimeout, "GpuWaitTimeout",
                                $"No GPU became free within {req.WaitTimeout.TotalSeconds:0} s. {unavailable.Message}", req.ContainerTag,
                                "Try again later, or raise -TimeoutSec.");
                        throw unavailable;
                    }
                    if (queued is not null) Queue.Touch(queued);
                    else
                    {
                        // Entries of waiters that are gone would pile up (and only the first GpuQueue.MaxEntries are read).
                        Queue.Prune();
                        queued = Queue.Enqueue(req.User.Name, req.ContainerTag, req.Count, req.Limits.Priority, deadline, Environment.ProcessId,
                            req.Slot, req.Limits.AllowFullGpu);
                        Log("gpu.queue", req, new Dictionary<string, object?> { ["count"] = req.Count, ["priority"] = req.Limits.Priority, ["reason"] = unavailable!.Message });
                    }
                    _session.Activity.Set("Waiting in the GPU queue",
                        $"{unavailable!.Message} Waiting until {deadline.ToLocalTime():HH:mm:ss} (-TimeoutSec).", _session.Clock);
                }
                // Under ds01d each poll is a create attempt at the service: less often, so waiters do not crowd its lock.
                await Task.Delay(_session.ViaService && PollInterval < ServicePollInterval ? ServicePollInterval : PollInterval, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (queued is not null) Queue.Remove(queued);
            _session.Activity.Clear();
        }
    }

    /// <summary>
    /// A live waiter that should be served before this request: higher priority, or equal priority and earlier,
    /// and able to take slots right now (its own slot choice and limits, as if it asked now). A waiter that cannot
    /// use what is free does not block anyone. Non-waiting requests yield to waiters too, so -Wait is a real place
    /// in line. A queue file claims a priority; the owner's configured priority caps it, so a forged entry gains nothing.
    /// </summary>
    private GpuQueueEntry? WaiterAhead(GpuQueueEntry? me, int myPriority, IReadOnlyList<Ds01GpuSlot> slots, IReadOnlyList<GpuHolding> holdings)
    {
        foreach (var other in Queue.List())
        {
            if (me is not null && other.Id == me.Id) return null;
            var identity = _session.Identities.FindByName(other.User);
            if (identity is null) continue;
            // The file's owner (the kernel's word) must be the user it names, or root acting for them: anyone can
            // write a file claiming to be someone else's waiter.
            if (other.FileUid is { } fileUid && fileUid != 0 && fileUid != identity.Uid) continue;
            var limits = _session.LimitsFor(identity);
            var priority = Math.Min(other.Priority, limits.Priority);
            var ahead = priority > myPriority || (priority == myPriority && (me is null || other.RequestedAt <= me.RequestedAt));
            if (!ahead) continue;
            try
            {
                SlotAllocator.Choose(slots, holdings, new GpuRequest(other.User, other.Count, other.Slot, limits.GpuLimit,
                    limits.MaxGpusPerContainer, limits.AllowFullGpu && other.AllowFullGpu));
                return other;
            }
            catch (Ds01Exception e) when (e.Kind is Ds01ErrorKind.ResourceUnavailable or Ds01ErrorKind.QuotaExceeded or Ds01ErrorKind.InvalidArgument or Ds01ErrorKind.InvalidOperation)
            {
                // It cannot be served now (busy, over its quota, or asking for what is not here): it keeps its place but blocks nobody.
            }
        }
        return null;
    }

    private static IReadOnlyList<Ds01GpuSlot>? ChooseOnIdle(IReadOnlyList<Ds01GpuSlot> slots, GpuRequest request)
    {
        try { return SlotAllocator.Choose(slots, Array.Empty<GpuHolding>(), request); }
        catch (Ds01Exception) { return null; }
    }

    /// <summary>
    /// For a host that admits creates itself (ds01d, with its own queue): the live waiter that must be served before
    /// the create of <paramref name="tag"/> at <paramref name="priority"/>, which is behind only the waiters queued
    /// before its own entry (when it has one), or null.
    /// </summary>
    public GpuQueueEntry? WaiterAhead(string tag, int priority, IReadOnlyList<GpuHolding> holdings) =>
        WaiterAhead(Queue.List().FirstOrDefault(e => e.Container == tag), priority, Slots, holdings);

    public void Apply(GpuAssignment a, CreateContainerParameters p)
    {
        var slots = string.Join(",", a.Slots);
        var uuids = string.Join(",", a.Uuids);
        // Called again when a -Wait create is retried with other slots: the previous attempt's variables go first.
        p.Env = (p.Env ?? new List<string>()).Where(e => !e.StartsWith("CUDA_VISIBLE_DEVICES=", StringComparison.Ordinal) &&
                                                          !e.StartsWith("NVIDIA_VISIBLE_DEVICES=", StringComparison.Ordinal)).ToList();
        if (a.WaitUntil is { } until)
        {
            p.Labels[Labels.GpuWaitUntil] = until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            p.Labels[Labels.GpuWaitCount] = a.WaitCount.ToString(CultureInfo.InvariantCulture);
            if (a.WaitSlot is { } named) p.Labels[Labels.GpuWaitSlot] = named;
        }
        // A retried attempt may attach differently (one device, or several MIG devices through the runtime).
        if (p.HostConfig is { } hc)
        {
            hc.DeviceRequests = null;
            if (hc.Runtime == "nvidia") hc.Runtime = null;
        }
        p.Labels[Labels.GpuSlots] = slots;
        p.Labels[Labels.GpuUuids] = uuids;
        p.Labels[Labels.GpuAllocated] = _session.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        p.Labels[Labels.GpuWeight] = a.Weight.ToString("0.####", CultureInfo.InvariantCulture);
        p.Labels[Labels.AimeGpus] = slots;
        p.Labels[Labels.GpuHoldMinutes] = a.HoldMinutes.ToString(CultureInfo.InvariantCulture);
        p.Env.Add($"CUDA_VISIBLE_DEVICES={uuids}");
        p.Env.Add($"NVIDIA_VISIBLE_DEVICES={uuids}");
        if (Config.Attach == GpuAttachMode.Simulated) return;
        p.HostConfig ??= new HostConfig();
        var migCount = a.Slots.Count(s => s.Contains('.'));
        if (migCount > 1)
        {
            // Several MIG devices: the nvidia runtime reads NVIDIA_VISIBLE_DEVICES (as DS01's mlc-patched does).
            p.HostConfig.Runtime = "nvidia";
            return;
        }
        p.HostConfig.DeviceRequests = new List<DeviceRequest>
        {
            new() { Driver = "nvidia", DeviceIDs = a.Uuids.ToList(), Capabilities = new List<IList<string>> { new List<string> { "gpu" } } },
        };
    }

    public async Task StartAsync(ContainerInspectResponse container, Func<Task> start, CancellationToken ct)
    {
        var labels = container.Config?.Labels ?? new Dictionary<string, string>();
        IReadOnlyList<string> own;
        if (labels.TryGetValue(Labels.GpuSlots, out var mine) && !string.IsNullOrWhiteSpace(mine))
            own = mine.Split(',').Select(s => Ds01GpuSlot.NormalizeSlotId(s.Trim())).ToList();
        else if (labels.TryGetValue(Labels.AimeGpus, out var g) && g == "0" && labels.ContainsKey(Labels.Managed))
            own = Array.Empty<string>();
        else
            own = HasDevices(container) ? GpuHoldingReader.DeviceSlots(container, Slots) : Array.Empty<string>();
        if (own.Count == 0)
        {
            await start().ConfigureAwait(false);
            return;
        }
        using (Lock())
        {
            var tag = container.Name.TrimStart('/');
            var name = ContainerNaming.ParseTag(tag).Name;
            var holdings = await HoldingsAsync(ct).ConfigureAwait(false);
            foreach (var h in holdings.Where(h => h.Tag != tag))
            {
                var clash = h.Holding.Slots.FirstOrDefault(s => own.Contains(s) || own.Any(o => Covers(o, s) || Covers(s, o)));
                if (clash is not null)
                    throw new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "GpuSlotTaken",
                        $"GPU {clash} of '{name}' went to '{ContainerNaming.ParseTag(h.Tag).Name}' ({h.Holding.User}) after this container's hold expired; a container's GPU is fixed when it is created.",
                        tag, "Remove this container and create a new one (your workspace files are kept), or wait until that GPU is free.");
            }
            // Past its hold the container holds nothing: starting it takes GPUs again, so quota and the queue apply as at create.
            if (!holdings.Any(h => h.Tag == tag) && Labels.Owner(labels) is { } ownerName && _session.Identities.FindByName(ownerName) is { } owner)
            {
                var limits = _session.LimitsFor(owner);
                var plain = holdings.Select(h => h.Holding).ToList();
                var used = SlotAllocator.UserWeight(Slots, plain, owner.Name);
                var need = own.Sum(id => Slots.FirstOrDefault(s => s.Slot == id)?.Weight ?? 1.0);
                if (limits.GpuLimit is { } limit && used + need > limit + SlotAllocator.Epsilon)
                    throw new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "GpuQuotaExceeded",
                        $"{owner.Name} holds {used:0.00} GPU-equivalents; starting '{name}' needs {need:0.00} more; the limit is {limit:0.00}.", owner.Name,
                        "Stop or remove another container first (its hold expired, so starting this one takes its GPU again).");
                if (WaiterAhead(null, limits.Priority, Slots, plain) is { } ahead)
                    throw new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "GpuQueuedAhead",
                        $"A free GPU is promised to a waiting request of priority {ahead.Priority} ({ahead.User}, {ahead.Container}).", tag,
                        "Try again when the queue is empty (Get-Ds01GpuAllocation -Queued).");
            }
            await start().ConfigureAwait(false);
        }
    }

    private static bool HasDevices(ContainerInspectResponse c) =>
        c.HostConfig?.DeviceRequests is { Count: > 0 } ||
        c.Config?.Env?.Any(e => e.StartsWith("NVIDIA_VISIBLE_DEVICES=", StringComparison.Ordinal)) == true;

    private static bool Covers(string full, string mig) => !full.Contains('.') && mig.StartsWith(full + ".", StringComparison.Ordinal);

    // ---------- views ----------

    public async Task<IReadOnlyList<Ds01GpuSlot>> SlotStatesAsync(CancellationToken ct)
    {
        var holdings = await HoldingsAsync(ct).ConfigureAwait(false);
        return Slots.Select(s =>
        {
            var h = holdings.FirstOrDefault(x => x.Holding.Slots.Any(id => id == s.Slot || Covers(id, s.Slot) || Covers(s.Slot, id)));
            if (h is null) return s;
            var state = h.Holding.State == GpuHoldingState.Held ? GpuSlotState.Held : GpuSlotState.Allocated;
            return s.WithAllocation(state, ContainerNaming.ParseTag(h.Tag).Name, h.Holding.User, h.Holding.HoldExpiresAt);
        }).ToList();
    }

    public async Task<IReadOnlyList<Ds01GpuAllocation>> AllocationsAsync(bool includeHeld, CancellationToken ct)
    {
        var holdings = await HoldingsAsync(ct).ConfigureAwait(false);
        return holdings.Where(h => includeHeld || h.Holding.State == GpuHoldingState.Allocated).Select(h => new Ds01GpuAllocation
        {
            Container = ContainerNaming.ParseTag(h.Tag).Name,
            User = h.Holding.User,
            Slots = string.Join(",", h.Holding.Slots),
            Uuids = h.Uuids,
            Weight = Math.Round(h.Weight, 4),
            State = h.Holding.State == GpuHoldingState.Held ? GpuAllocationState.Held : GpuAllocationState.Allocated,
            AllocatedAt = h.AllocatedAt,
            HoldExpiresAt = h.Holding.HoldExpiresAt,
        }).OrderBy(a => a.Slots, StringComparer.Ordinal).ToList();
    }

    /// <summary>The waiting requests: under ds01d its queue, every user's (the client's own state dir holds only its own commands).</summary>
    public IReadOnlyList<Ds01GpuAllocation> QueuedAllocations() => QueueEntries().Select(e => new Ds01GpuAllocation
    {
        Container = ContainerNaming.ParseTag(e.Container).Name,
        User = e.User,
        Slots = "",
        Weight = 0,
        State = GpuAllocationState.Queued,
        Priority = e.Priority,
        AllocatedAt = e.RequestedAt,
    }).ToList();

    private IReadOnlyList<GpuQueueEntry> QueueEntries() =>
        _session.ViaService && _docker is DockerEngine { Endpoint: var endpoint } && endpoint.StartsWith("unix://", StringComparison.Ordinal) &&
        DockerEndpointResolver.ServiceQueue(endpoint["unix://".Length..]) is { } served
            ? served
            : Queue.List();

    private void Log(string type, GpuPlacementRequest req, Dictionary<string, object?> details)
    {
        details["container"] = req.ContainerTag;
        _session.Recorder.Record(type, req.User, details);
    }
}

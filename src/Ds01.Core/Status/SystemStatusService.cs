using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Maintenance;
using Ds01.Core.Naming;

namespace Ds01.Core.Status;

/// <summary>Builds Ds01SystemStatus from Docker, the GPU inventory, the queue and maintenance's samples (read-only).</summary>
public sealed class SystemStatusService
{
    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;

    public SystemStatusService(Ds01Session session, IContainerEngine docker)
    {
        _session = session;
        _docker = docker;
    }

    public async Task<Ds01SystemStatus> GetAsync(CancellationToken ct)
    {
        var now = _session.Clock.GetUtcNow();
        var problems = new List<string>();
        var gpu = new GpuService(_session, _docker);
        IReadOnlyList<Ds01GpuSlot> slots;
        try { slots = await gpu.SlotStatesAsync(ct).ConfigureAwait(false); }
        catch (Ds01Exception e) when (e.Kind is Ds01ErrorKind.NotInstalled or Ds01ErrorKind.InvalidData or Ds01ErrorKind.OperationTimeout)
        {
            problems.Add($"GPUs: {e.Message}");
            slots = Array.Empty<Ds01GpuSlot>();
        }
        IReadOnlyList<Ds01GpuAllocation> queue;
        try { queue = gpu.QueuedAllocations(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"GPU queue: {e.Message}"); queue = Array.Empty<Ds01GpuAllocation>(); }

        MaintenanceState state;
        try { state = MaintenanceState.Load(_session.Paths.StateDir); }
        catch (Exception e) when (e is Ds01Exception or IOException or UnauthorizedAccessException) { problems.Add(e.Message); state = new MaintenanceState(); }

        ResourceLimitsConfig? config = null;
        try { config = _session.Config.ResourceLimits; }
        catch (Ds01Exception e) { problems.Add($"Limits: {e.Message}"); }

        var listed = await _docker.ListContainersAsync(null, ct).ConfigureAwait(false);
        var byTagSamples = state.Containers.Values.ToDictionary(s => s.Tag, s => s, StringComparer.Ordinal);
        var runtimeLimits = new Dictionary<string, double?>(StringComparer.Ordinal);
        var containers = new List<Ds01StatusContainer>();
        foreach (var l in listed.Where(l => Labels.Owner(l.Labels) is not null))
        {
            var c = ContainerMapper.FromList(l, now);
            var protectedBox = l.Labels.TryGetValue(MaintenanceService.ProtectedLabel, out var p) && p == "true";
            byTagSamples.TryGetValue(c.Tag, out var sample);
            var idleSince = c.State == ContainerState.Running ? sample?.IdleSince : null;
            DateTimeOffset? stopsAt = null;
            var reason = "";
            if (!protectedBox && c.State == ContainerState.Running)
            {
                if (sample?.StopsAt is { } idleStop) { stopsAt = idleStop; reason = "Idle"; }
                if (config is not null && c.StartedAt is { } started && RuntimeLimit(config, c.User ?? "", runtimeLimits) is { } max
                    && started + TimeSpan.FromHours(max) is var runtimeStop && (stopsAt is null || runtimeStop < stopsAt))
                {
                    stopsAt = runtimeStop;
                    reason = "Runtime";
                }
            }
            containers.Add(new Ds01StatusContainer
            {
                Name = c.Name, Tag = c.Tag, User = c.User ?? "", State = c.State, Gpu = c.Gpu,
                Idle = idleSince is not null, IdleSince = idleSince, StopsAt = stopsAt, StopReason = reason,
            });
        }
        containers = containers.OrderBy(c => c.State).ThenBy(c => c.User, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();

        return new Ds01SystemStatus
        {
            UpdatedAt = now,
            GpuEquivalentsTotal = Math.Round(slots.Sum(s => s.Weight), 3),
            GpuEquivalentsAllocated = Math.Round(slots.Where(s => s.State != GpuSlotState.Free).Sum(s => s.Weight), 3),
            SlotsTotal = slots.Count,
            SlotsInUse = slots.Count(s => s.State != GpuSlotState.Free),
            ContainersRunning = containers.Count(c => c.State == ContainerState.Running),
            ContainersIdle = containers.Count(c => c.Idle),
            ContainersPaused = containers.Count(c => c.State == ContainerState.Paused),
            ContainersStopped = containers.Count(c => c.State == ContainerState.Stopped),
            ContainersCreated = containers.Count(c => c.State == ContainerState.Created),
            QueuedRequests = queue.Count,
            NextCleanupAt = containers.Where(c => c.StopsAt is not null).Select(c => c.StopsAt).Min(),
            LastMaintenanceRun = state.LastRun,
            Slots = slots, Containers = containers, Queue = queue, Problems = problems,
        };
    }

    private double? RuntimeLimit(ResourceLimitsConfig config, string user, Dictionary<string, double?> cache)
    {
        if (cache.TryGetValue(user, out var hit)) return hit;
        var identity = user.Length > 0 ? _session.Identities.FindByName(user) : null;
        return cache[user] = LimitResolver.Resolve(config, user, identity?.Groups ?? Array.Empty<string>()).MaxRuntimeHours;
    }
}

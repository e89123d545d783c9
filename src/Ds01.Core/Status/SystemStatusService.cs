using Docker.DotNet.Models;
using Ds01.Core.Cluster;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Maintenance;
using Ds01.Core.Naming;

namespace Ds01.Core.Status;

/// <summary>Builds Ds01SystemStatus from Docker, the GPU inventory, the queue and maintenance's samples (read-only); with
/// backend: slurm the GPUs and queue are Slurm's and every node's endpoint is listed (ClusterStatus).</summary>
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
        var cluster = _session.Config.Cluster;
        IReadOnlyList<ContainerListResponse> listed;
        IReadOnlyDictionary<string, string> unreachable = new Dictionary<string, string>();
        if (cluster.IsSlurm) (listed, unreachable) = await ClusterStatus.ListAsync(_session, _docker, ct).ConfigureAwait(false);
        else listed = (await _docker.ListContainersAsync(null, ct).ConfigureAwait(false)).ToList();

        IReadOnlyList<Ds01GpuSlot> slots;
        IReadOnlyList<Ds01GpuAllocation> queue;
        string? sinfo = null;
        if (cluster.IsSlurm)
        {
            // On a cluster the GPUs, their use and the queue are Slurm's, over every node.
            var ours = listed.Where(l => Labels.Owner(l.Labels) is not null).Select(l => ContainerMapper.FromList(l, now)).ToList();
            try
            {
                sinfo = await new SlurmClient(cluster).RequireAsync("sinfo", new[] { "--json" }, null, ct, "SlurmNodesUnreadable").ConfigureAwait(false);
                slots = ClusterGpus.Slots(sinfo, ours);
            }
            catch (Ds01Exception e) { problems.Add($"Slurm nodes: {e.Message}"); slots = Array.Empty<Ds01GpuSlot>(); }
            try { queue = await ClusterQueue.QueuedAsync(_session, ct).ConfigureAwait(false); }
            catch (Ds01Exception e) { problems.Add($"Slurm queue: {e.Message}"); queue = Array.Empty<Ds01GpuAllocation>(); }
        }
        else
        {
            var gpu = new GpuService(_session, _docker);
            try { slots = await gpu.SlotStatesAsync(ct).ConfigureAwait(false); }
            catch (Ds01Exception e) when (e.Kind is Ds01ErrorKind.NotInstalled or Ds01ErrorKind.InvalidData or Ds01ErrorKind.OperationTimeout)
            {
                problems.Add($"GPUs: {e.Message}");
                slots = Array.Empty<Ds01GpuSlot>();
            }
            try { queue = gpu.QueuedAllocations(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"GPU queue: {e.Message}"); queue = Array.Empty<Ds01GpuAllocation>(); }
        }

        MaintenanceState state;
        try { state = MaintenanceState.Load(_session.Paths.StateDir); }
        catch (Exception e) when (e is Ds01Exception or IOException or UnauthorizedAccessException) { problems.Add(e.Message); state = new MaintenanceState(); }

        ResourceLimitsConfig? config = null;
        try { config = _session.Config.ResourceLimits; }
        catch (Ds01Exception e) { problems.Add($"Limits: {e.Message}"); }

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
                Idle = idleSince is not null, IdleSince = idleSince, StopsAt = stopsAt, StopReason = reason, Node = c.Node,
            });
        }
        containers = containers.OrderBy(c => c.State).ThenBy(c => c.User, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
        IReadOnlyList<Ds01StatusNode> nodes = Array.Empty<Ds01StatusNode>();
        if (cluster.IsSlurm)
        {
            nodes = ClusterStatus.Nodes(sinfo ?? "{}", cluster, slots, containers, unreachable);
            problems.AddRange(ClusterStatus.Problems(nodes));
        }

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
            Slots = slots, Containers = containers, Queue = queue, Problems = problems, NodeCount = nodes.Count, Nodes = nodes,
        };
    }

    private double? RuntimeLimit(ResourceLimitsConfig config, string user, Dictionary<string, double?> cache)
    {
        if (cache.TryGetValue(user, out var hit)) return hit;
        var identity = user.Length > 0 ? _session.Identities.FindByName(user) : null;
        return cache[user] = LimitResolver.Resolve(config, user, identity?.Groups ?? Array.Empty<string>()).MaxRuntimeHours;
    }
}

using System.Globalization;
using System.Text.Json;
using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Status;

namespace Ds01.Core.Cluster;

/// <summary>
/// Get-Ds01SystemStatus on a cluster: every node as Slurm sees it (`sinfo --json`: state, CPUs, GPU GRES) and as
/// its Docker endpoint shows it (the containers there). A node whose endpoint does not answer is a problem of the
/// status, not a failure of it: the other nodes are still shown.
/// </summary>
public static class ClusterStatus
{
    /// <summary>The containers of this server's engine and of every other node endpoint, once each; the endpoints that failed, with why.</summary>
    public static async Task<(IReadOnlyList<ContainerListResponse> Listed, IReadOnlyDictionary<string, string> Unreachable)> ListAsync(
        Ds01Session session, IContainerEngine local, CancellationToken ct)
    {
        var listed = (await local.ListContainersAsync(null, ct).ConfigureAwait(false)).ToList();
        var seen = listed.Select(c => c.ID).ToHashSet(StringComparer.Ordinal);
        var unreachable = new Dictionary<string, string>(StringComparer.Ordinal);
        var localEndpoint = (local as DockerEngine)?.Endpoint;
        foreach (var host in session.Config.Cluster.Nodes.Select(n => n.DockerHost).Distinct(StringComparer.Ordinal)
                     .Where(h => !string.Equals(h, localEndpoint, StringComparison.Ordinal)))
        {
            try
            {
                using var engine = new DockerEngine(host, TimeSpan.FromSeconds(10));
                foreach (var c in await engine.ListContainersAsync(null, ct).ConfigureAwait(false))
                    if (seen.Add(c.ID)) listed.Add(c);
            }
            catch (Ds01Exception e) { unreachable[host] = e.Message; }
        }
        return (listed, unreachable);
    }

    /// <summary>One row per node of cluster.yaml, in its order, from sinfo's JSON, the GPU slots and the containers.</summary>
    public static IReadOnlyList<Ds01StatusNode> Nodes(string sinfoJson, ClusterConfig cluster, IReadOnlyList<Ds01GpuSlot> slots,
        IReadOnlyList<Ds01StatusContainer> containers, IReadOnlyDictionary<string, string> unreachable)
    {
        var slurm = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(sinfoJson);
        if (doc.RootElement.TryGetProperty("nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array)
            foreach (var n in nodes.EnumerateArray())
                if (n.TryGetProperty("name", out var name) && name.GetString() is { } s) slurm[s] = n.Clone();
        var rows = new List<Ds01StatusNode>();
        foreach (var node in cluster.Nodes)
        {
            var mine = slots.Where(s => s.Node == node.Name).ToList();
            var here = containers.Where(c => c.Node == node.Name).ToList();
            var known = slurm.TryGetValue(node.Name, out var n);
            var problem = !known ? "Slurm does not know this node (sinfo)"
                : unreachable.TryGetValue(node.DockerHost, out var why) ? $"Docker endpoint {node.DockerHost}: {why}" : "";
            rows.Add(new Ds01StatusNode
            {
                Name = node.Name,
                State = known ? SlurmState(n) : "unknown",
                GpuEquivalentsTotal = Math.Round(mine.Sum(s => s.Weight), 3),
                GpuEquivalentsAllocated = Math.Round(mine.Where(s => s.State != GpuSlotState.Free).Sum(s => s.Weight), 3),
                SlotsTotal = mine.Count,
                SlotsInUse = mine.Count(s => s.State != GpuSlotState.Free),
                CpusTotal = known ? Int(n, "cpus") : 0,
                CpusAllocated = known ? Int(n, "alloc_cpus") : 0,
                ContainersRunning = here.Count(c => c.State == ContainerState.Running),
                ContainersTotal = here.Count,
                DockerHost = node.DockerHost,
                Problem = problem,
            });
        }
        return rows;
    }

    private static string SlurmState(JsonElement n)
    {
        var state = n.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() ?? "" : "";
        // DRAIN, NOT_RESPONDING and friends come as flags beside the base state; they are what an admin must see.
        if (n.TryGetProperty("state_flags", out var f) && f.ValueKind == JsonValueKind.Array && f.GetArrayLength() > 0)
            state += "+" + string.Join("+", f.EnumerateArray().Select(e => e.GetString()?.ToLowerInvariant()));
        return state;
    }

    private static int Int(JsonElement n, string name) =>
        n.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : 0;

    /// <summary>Status problems for the nodes: each node's own, and endpoints that failed without a node row naming them.</summary>
    public static IEnumerable<string> Problems(IReadOnlyList<Ds01StatusNode> nodes) =>
        nodes.Where(n => n.Problem.Length > 0).Select(n => string.Create(CultureInfo.InvariantCulture, $"Node {n.Name}: {n.Problem}"));
}

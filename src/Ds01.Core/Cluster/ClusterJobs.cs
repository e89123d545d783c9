using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Naming;

namespace Ds01.Core.Cluster;

/// <summary>
/// The seams where a cluster container differs from a local one: remove ends its job (scancel), stop ends it
/// unless the job holds GPUs for the hold after stop (maintenance ends it later), start needs the job still
/// running, and listing reads every node's Docker endpoint.
/// </summary>
public static class ClusterJobs
{
    /// <summary>Cancels the container's Slurm job, if it has one and the backend is slurm; true when it did.</summary>
    public static async Task<bool> EndAsync(Ds01Session session, ContainerInspectResponse c, CancellationToken ct)
    {
        if (!session.Config.Cluster.IsSlurm || ClusterLabels.JobOf(c.Config?.Labels) is not { } job) return false;
        await CancelJobAsync(session, job, c.Name.TrimStart('/'), ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>scancel of one job; a job that already ended (time limit, an earlier scancel) is what we want.</summary>
    public static async Task CancelJobAsync(Ds01Session session, long job, string containerTag, CancellationToken ct)
    {
        var slurm = new SlurmClient(session.Config.Cluster);
        var r = await slurm.RunAsync("scancel", new[] { job.ToString(System.Globalization.CultureInfo.InvariantCulture) }, null, ct).ConfigureAwait(false);
        if (r.ExitCode != 0 && !r.StdErr.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase) &&
            !r.StdErr.Contains("already completing or completed", StringComparison.OrdinalIgnoreCase))
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "SlurmCancelFailed", $"scancel {job} failed: {r.StdErr.Trim()}", job,
                "Check that slurmctld answers (scontrol ping).");
        session.Recorder.Record("cluster.cancel", session.Caller, new Dictionary<string, object?> { ["container"] = containerTag, ["job"] = job });
    }

    /// <summary>A container that runs as a Slurm job on this cluster (the backend is slurm and it has the job label).</summary>
    public static bool IsClusterContainer(Ds01Session session, ContainerInspectResponse c) =>
        session.Config.Cluster.IsSlurm && ClusterLabels.JobOf(c.Config?.Labels) is not null;

    /// <summary>
    /// Whether stopping the container keeps its job alive: it holds GPUs and its hold (ds01.gpu.hold_minutes) is
    /// longer than zero. A CPU-only container holds nothing worth keeping, so its stop ends the job at once.
    /// </summary>
    public static bool HoldsAfterStop(ContainerInspectResponse c)
    {
        var labels = c.Config?.Labels;
        if (labels is null || !labels.TryGetValue(Labels.GpuSlots, out var slots) || string.IsNullOrWhiteSpace(slots)) return false;
        return GpuHoldingReader.HoldMinutes(labels) > 0;
    }

    /// <summary>
    /// Before a start: the job must still be running, as its allocation is what holds the node's GPUs. A job that
    /// ended (the hold passed and maintenance ended it, scancel, the time limit) takes its GPUs with it; the Epilog
    /// removes the container, so a start now would run it without an allocation.
    /// </summary>
    public static async Task RequireJobRunningAsync(Ds01Session session, ContainerInspectResponse c, string name, CancellationToken ct)
    {
        var job = ClusterLabels.JobOf(c.Config?.Labels)!.Value;
        var state = await new SlurmClient(session.Config.Cluster).JobAsync(job, ct).ConfigureAwait(false);
        if (state is { IsRunning: true }) return;
        throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ClusterJobEnded",
            $"Container '{name}' cannot start: its Slurm job {job} {(state is null ? "has ended" : $"is {state.State}")}, so it no longer holds a node's GPUs (the GPU hold after stop is over). Nothing was started.",
            name, $"Remove it (Remove-Ds01Container {name}) and create a new one; your workspace files are kept.");
    }

    /// <summary>
    /// Every Ds01 container on the cluster: the local engine's list, plus each node endpoint that is another one
    /// (nodes sharing one dockerd, as in the test lab, are listed once). The Node property comes from the label.
    /// </summary>
    public static async Task<IReadOnlyList<Ds01Container>> ListAllAsync(Ds01Session session, string localEndpoint,
        Func<CancellationToken, Task<IReadOnlyList<Ds01Container>>> listLocal, CancellationToken ct)
    {
        var all = (await listLocal(ct).ConfigureAwait(false)).ToList();
        var seen = all.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var now = session.Clock.GetUtcNow();
        foreach (var host in session.Config.Cluster.Nodes.Select(n => n.DockerHost).Distinct(StringComparer.Ordinal)
                     .Where(h => !string.Equals(h, localEndpoint, StringComparison.Ordinal)))
        {
            using var engine = new DockerEngine(host);
            var raw = await engine.ListContainersAsync(new Dictionary<string, bool> { [Labels.Aime] = true }, ct).ConfigureAwait(false);
            foreach (var c in raw.Select(r => ContainerMapper.FromList(r, now)))
                if (seen.Add(c.Id)) all.Add(c);
        }
        return all;
    }
}

using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Naming;

namespace Ds01.Core.Cluster;

/// <summary>
/// The seams where a cluster container differs from a local one: stop and remove end its job (scancel), and
/// listing reads every node's Docker endpoint.
/// </summary>
public static class ClusterJobs
{
    /// <summary>Cancels the container's Slurm job, if it has one and the backend is slurm; true when it did.</summary>
    public static async Task<bool> EndAsync(Ds01Session session, ContainerInspectResponse c, CancellationToken ct)
    {
        var cluster = session.Config.Cluster;
        if (!cluster.IsSlurm || ClusterLabels.JobOf(c.Config?.Labels) is not { } job) return false;
        var slurm = new SlurmClient(cluster);
        var r = await slurm.RunAsync("scancel", new[] { job.ToString(System.Globalization.CultureInfo.InvariantCulture) }, null, ct).ConfigureAwait(false);
        // A job that already ended (time limit, an earlier scancel) is what we want; anything else is an error.
        if (r.ExitCode != 0 && !r.StdErr.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase) &&
            !r.StdErr.Contains("already completing or completed", StringComparison.OrdinalIgnoreCase))
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "SlurmCancelFailed", $"scancel {job} failed: {r.StdErr.Trim()}", job,
                "Check that slurmctld answers (scontrol ping).");
        session.Recorder.Record("cluster.cancel", session.Caller, new Dictionary<string, object?> { ["container"] = c.Name.TrimStart('/'), ["job"] = job });
        return true;
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

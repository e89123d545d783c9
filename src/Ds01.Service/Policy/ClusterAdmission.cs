using System.Globalization;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Ds01.Core;
using Ds01.Core.Cluster;
using Ds01.Core.Containers;
using Ds01.Core.Identity;
using Ds01.Core.Naming;
using Ds01.Service.Proxy;
using static Ds01.Service.Policy.JsonFields;

namespace Ds01.Service.Policy;

/// <summary>
/// ds01d on a Slurm node (cluster.yaml backend: slurm): a user's containers/create is the workload of one of their
/// Slurm jobs. It is admitted only when the job it names (label ds01.slurm.job) is running, is the caller's, runs on
/// this node, was submitted for this container (job name ds01:&lt;tag&gt;, as SbatchRequest names it), and the GPUs the
/// request asks for are exactly the job's GRES indices on this node. The GPU and cluster labels, environment and
/// device request are then written from the job (SlurmPlacement.ApplyJob), never taken from the request; slurmctld
/// holds the GRES, so the local GPU allocator is not consulted. Every other admission check (CreateAdmission) applies
/// as on a single server.
/// </summary>
internal static class ClusterAdmission
{
    /// <summary>The job the create names, as Slurm sees it now; refusals for a missing label or an unknown job.</summary>
    public static async Task<SlurmJob> JobAsync(JsonObject body, string tag, ClusterConfig cluster, CancellationToken ct)
    {
        var labels = Obj(body, "Labels");
        var value = labels?[ClusterLabels.Job] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (value is null || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId) || jobId <= 0)
            throw Deny.Forbidden("ClusterCreateNeedsJob",
                $"This server is a Slurm node: a container is created here only for a running Slurm job of yours, and '{tag}' names none (label {ClusterLabels.Job}{(value is null ? "" : $"='{value}' is not a job id")}).",
                tag, "Use New-Ds01Container, which submits the job and creates the container on the node Slurm picks.");
        var job = await new SlurmClient(cluster).JobAsync(jobId, ct).ConfigureAwait(false);
        return job ?? throw Deny.Forbidden("ClusterJobNotRunning", $"Slurm does not know job {jobId} (it ended, or never existed); '{tag}' was not created.", jobId,
            "Create the container again with New-Ds01Container; it submits a new job.");
    }

    /// <summary>The job must be running, the caller's, on this node, submitted for this container, with exactly the GPUs asked for.</summary>
    public static void Check(SlurmJob job, string tag, IReadOnlyList<string> gpuDevices, UserIdentity user, string node)
    {
        var id = job.JobId.ToString(CultureInfo.InvariantCulture);
        if (!string.Equals(job.User, user.Name, StringComparison.Ordinal))
            throw Deny.Forbidden("ClusterJobNotYours", $"Slurm job {id} belongs to '{job.User}', not to you ('{user.Name}'); '{tag}' was not created.", job.JobId,
                "Create containers for your own jobs only: New-Ds01Container submits one.");
        if (!job.IsRunning)
            throw Deny.Forbidden("ClusterJobNotRunning", $"Slurm job {id} is {job.State}, not RUNNING; '{tag}' was not created.", job.JobId,
                "Create the container once the job runs (New-Ds01Container waits for it), or submit anew.");
        if (!string.Equals(job.Node, node, StringComparison.Ordinal))
            throw Deny.Forbidden("ClusterJobNotOnThisNode", $"Slurm job {id} runs on node '{job.Node ?? "(none)"}', not on this node ('{node}'); '{tag}' was not created.", job.JobId,
                $"Create the container at the ds01d of node '{job.Node}' (its docker_host in cluster.yaml); New-Ds01Container does.");
        if (job.Name != "ds01:" + tag)
            throw Deny.Forbidden("ClusterJobNotForThisContainer", $"Slurm job {id} was submitted for '{(job.Name.StartsWith("ds01:", StringComparison.Ordinal) ? job.Name[5..] : job.Name)}', not for '{tag}'.", job.JobId,
                "One job holds one container: create it under the name the job was submitted for, or use New-Ds01Container.");
        var asked = new SortedSet<int>();
        foreach (var d in gpuDevices)
        {
            if (!int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                throw Deny.Forbidden("ClusterGpuNotInJob", $"'{d}' is not one of the GPU indices Slurm job {id} holds on this node ({Indices(job)}).", d,
                    "Ask for the job's GPUs by index (CUDA_VISIBLE_DEVICES in the job); New-Ds01Container does.");
            asked.Add(index);
        }
        var held = new SortedSet<int>(job.GpuIndices);
        if (!asked.SetEquals(held))
        {
            var extra = asked.Except(held).ToList();
            throw Deny.Forbidden("ClusterGpuNotInJob", extra.Count > 0
                    ? $"GPU {string.Join(",", extra)} is not held by Slurm job {id} on this node (it holds {Indices(job)}); '{tag}' was not created."
                    : $"The container asks for GPU {(asked.Count == 0 ? "none" : string.Join(",", asked))}, but Slurm job {id} holds {Indices(job)}; the container must take exactly the job's GPUs.",
                tag, "Ask for exactly the job's GPUs; New-Ds01Container does.");
        }
    }

    private static string Indices(SlurmJob job) => job.GpuIndices.Count == 0 ? "none" : string.Join(",", job.GpuIndices);

    private static readonly string[] JobEnv = { "CUDA_VISIBLE_DEVICES=", "NVIDIA_VISIBLE_DEVICES=", "NVIDIA_DEVICES=", "SLURM_JOB_ID=" };

    /// <summary>
    /// Drops what the request said about GPUs and the cluster (labels, environment, device requests) and writes the
    /// job's instead, with the same code the client uses (SlurmPlacement), so the node's containers carry what Slurm holds.
    /// </summary>
    public static void Apply(JsonObject body, SlurmJob job, Ds01Session session, double holdMinutes)
    {
        var labels = Obj(body, "Labels");
        if (labels is null) { labels = new JsonObject(); Set(body, "Labels", labels); }
        foreach (var key in new[] { Labels.GpuSlots, Labels.GpuUuids, Labels.GpuAllocated, Labels.GpuWeight, Labels.AimeGpus, Labels.GpuHoldMinutes,
                     ClusterLabels.Job, ClusterLabels.Node, ClusterLabels.Cluster, ClusterLabels.Gres })
            labels.Remove(key);
        var env = Arr(body, "Env");
        if (env is null) { env = new JsonArray(); Set(body, "Env", env); }
        var kept = Strings(body, "Env").Where(e => !JobEnv.Any(p => e.StartsWith(p, StringComparison.Ordinal))).ToList();
        env.Clear();
        foreach (var e in kept) env.Add(e);
        var host = Obj(body, "HostConfig")!;
        if (KeyOf(host, "DeviceRequests") is { } dr) host.Remove(dr);

        var p = new CreateContainerParameters { Labels = new Dictionary<string, string>(), Env = new List<string>() };
        new SlurmPlacement(session, job).ApplyJob(p, holdMinutes);
        foreach (var (k, v) in p.Labels) labels[k] = v;
        foreach (var e in p.Env) env.Add(e);
        if (p.HostConfig?.DeviceRequests is { Count: > 0 } requests)
            Set(host, "DeviceRequests", new JsonArray(requests.Select(r => (JsonNode)new JsonObject
            {
                ["Driver"] = r.Driver,
                ["DeviceIDs"] = new JsonArray(r.DeviceIDs.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()),
                ["Capabilities"] = new JsonArray(r.Capabilities.Select(c => (JsonNode)new JsonArray(c.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray())).ToArray()),
            }).ToArray()));
    }

    /// <summary>A start of a cluster container: its job must still run on this node, or its GRES is already someone else's.</summary>
    public static async Task CheckStartAsync(string tag, long jobId, ClusterConfig cluster, string node, CancellationToken ct)
    {
        var job = await new SlurmClient(cluster).JobAsync(jobId, ct).ConfigureAwait(false);
        var id = jobId.ToString(CultureInfo.InvariantCulture);
        if (job is null || !job.IsRunning)
            throw Deny.Forbidden("ClusterJobNotRunning",
                $"Container '{tag}' belongs to Slurm job {id}, which {(job is null ? "Slurm no longer knows" : $"is {job.State}")}; its GPUs are no longer held, so it was not started.",
                tag, "Remove it and create a new one (New-Ds01Container submits a new job).");
        if (!string.Equals(job.Node, node, StringComparison.Ordinal))
            throw Deny.Forbidden("ClusterJobNotOnThisNode", $"Container '{tag}' belongs to Slurm job {id}, which runs on node '{job.Node}', not here ('{node}'); it was not started.",
                tag, "Remove it and create a new one (New-Ds01Container).");
    }
}

using System.Globalization;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Core.Naming;

namespace Ds01.Core.Cluster;

/// <summary>
/// New-Ds01Container with `backend: slurm`: the container is one Slurm job's workload. Submit a job that asks for
/// the GRES (gpu[:type]:n), CPUs, memory, time limit and QOS of the owner's limits; wait while Slurm queues it
/// (only with -Wait beyond a short start-up); once it runs, create and start the container on the job's node through
/// the usual create transaction, with the job's GPU indices as its slots and the job id as a label. Any failure
/// cancels the job, so nothing holds GRES for a container that does not exist; scancel or the time limit end the
/// job and the Epilog (config/slurm/epilog) removes the container.
/// </summary>
public sealed class ClusterContainerCreation
{
    private readonly Ds01Session _session;
    private readonly Func<string, IContainerEngine> _engineFor;

    /// <param name="engineFor">The Docker endpoint of a node (its docker_host from cluster.yaml).</param>
    public ClusterContainerCreation(Ds01Session session, Func<string, IContainerEngine> engineFor)
    {
        _session = session;
        _engineFor = engineFor;
    }

    private ClusterConfig Cluster => _session.Config.Cluster;

    /// <summary>The job id of the last submit, for callers that report it (and tests).</summary>
    public long? JobId { get; private set; }

    public async Task<Ds01Container> RunAsync(ContainerCreateRequest request, UserIdentity owner, CancellationToken ct)
    {
        var cluster = Cluster;
        ContainerNaming.ValidateName(request.Name);
        // On a cluster -Gpu names a GRES type (h100, 3g.40gb): Slurm picks the node and the device.
        var gpuType = request.Gpu;
        var count = gpuType is not null ? Math.Max(1, request.GpuCount) : request.GpuCount;
        if (count < 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuCount", "-GpuCount cannot be negative.", request.GpuCount, "Use 0 for a CPU-only container.");
        var limits = _session.LimitsFor(owner);
        if (limits.MaxGpusPerContainer is { } max && count > max)
            throw new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "GpuPerContainerLimit",
                $"{count} GPUs in one container is more than your limit of {max.ToString(CultureInfo.InvariantCulture)}.", request.Name,
                $"Ask for at most {max.ToString(CultureInfo.InvariantCulture)} (Get-Ds01ResourceLimit shows your limits).");
        var tag = ContainerNaming.Tag(request.Name, owner.Uid);
        foreach (var host in cluster.Nodes.Select(n => n.DockerHost).Distinct(StringComparer.Ordinal))
            if (await _engineFor(host).InspectContainerAsync(tag, ct).ConfigureAwait(false) is not null)
                throw new Ds01Exception(Ds01ErrorKind.AlreadyExists, "ContainerExists", $"A container named '{request.Name}' already exists.", request.Name,
                    "Pick another name, or remove the old one with Remove-Ds01Container.");
        UserIdentity? runAs = null;
        if (owner.Uid != _session.Caller.Uid)
        {
            // sbatch --uid is root's alone; an admin who is not root cannot make Slurm run a job as someone else.
            if (_session.Caller.Uid != 0)
                throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "ClusterSubmitForOtherNeedsRoot",
                    $"Only root can submit a Slurm job for '{owner.Name}'.", owner.Name, "Run the command as root, or let the user run it.");
            runAs = owner;
        }
        var sbatch = SbatchRequest.For(cluster, tag, limits, count, gpuType, runAs);
        var slurm = new SlurmClient(cluster);

        var jobId = await slurm.SubmitAsync(sbatch, ct).ConfigureAwait(false);
        JobId = jobId;
        _session.Recorder.Record("cluster.submit", owner, new Dictionary<string, object?>
        {
            ["container"] = tag, ["job"] = jobId, ["gres"] = sbatch.Gres, ["qos"] = sbatch.Qos, ["partition"] = sbatch.Partition,
        });
        var done = false;
        try
        {
            var job = await WaitForStartAsync(slurm, jobId, request, ct).ConfigureAwait(false);
            var node = cluster.Node(job.Node ?? "");
            var engine = _engineFor(node.DockerHost);
            var placement = new SlurmPlacement(_session, job);
            var creation = new ContainerCreation(_session, engine, placement);
            // The slots are the job's: the local -Gpu slot syntax does not apply here.
            var local = new ContainerCreateRequest
            {
                Name = request.Name, Image = request.Image, Project = request.Project, Workspace = request.Workspace,
                DataPath = request.DataPath, GpuCount = job.GpuIndices.Count, Interface = request.Interface,
            };
            var prepared = await creation.PrepareAsync(local, owner, ct).ConfigureAwait(false);
            placement.Label(prepared.Parameters);
            var created = await creation.CommitAsync(prepared, ct).ConfigureAwait(false);
            await engine.StartContainerAsync(created.Id, ct).ConfigureAwait(false);
            var started = await engine.InspectContainerAsync(created.Id, CancellationToken.None).ConfigureAwait(false);
            done = true;
            return started is null ? created : ContainerMapper.FromInspect(started, _session.Clock.GetUtcNow());
        }
        finally
        {
            if (!done)
            {
                // The Epilog removes a container that was made before the failure.
                try { await slurm.CancelAsync(jobId, CancellationToken.None).ConfigureAwait(false); }
                catch (Ds01Exception e) { _session.Feedback.Warn($"Could not cancel Slurm job {jobId}: {e.Message}"); }
            }
        }
    }

    /// <summary>Polls slurmctld until the job runs; pending beyond start_wait_seconds fails unless -Wait (then up to -TimeoutSec).</summary>
    private async Task<SlurmJob> WaitForStartAsync(SlurmClient slurm, long jobId, ContainerCreateRequest request, CancellationToken ct)
    {
        var cluster = Cluster;
        var limit = request.Wait ? request.WaitTimeout : TimeSpan.FromSeconds(cluster.StartWaitSeconds);
        var clock = _session.Clock;
        var deadline = clock.GetUtcNow() + limit;
        string? lastReason = null;
        while (true)
        {
            var job = await slurm.JobAsync(jobId, ct).ConfigureAwait(false)
                ?? throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ClusterJobVanished", $"Slurm no longer knows job {jobId}.", jobId);
            if (job.IsRunning && job.Node is not null) return job;
            if (job.IsFinished)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ClusterJobEnded",
                    $"Slurm job {jobId} ended ({job.State}, {job.Reason}) before its container could start.", jobId,
                    "Check the partition and your Slurm account (sacct -j " + jobId.ToString(CultureInfo.InvariantCulture) + ").");
            if (job.IsPending && job.Reason != lastReason && job.Reason is not ("None" or ""))
            {
                _session.Feedback.Note($"Slurm job {jobId} is pending ({job.Reason}).");
                lastReason = job.Reason;
            }
            if (clock.GetUtcNow() >= deadline)
            {
                var reason = string.IsNullOrEmpty(job.Reason) ? "no reason given" : job.Reason;
                if (request.Wait)
                    throw new Ds01Exception(Ds01ErrorKind.OperationTimeout, "ClusterWaitTimedOut",
                        $"Slurm job {jobId} was still pending ({reason}) after {limit.TotalSeconds:0} s; it was cancelled.", request.Name,
                        "Wait longer with -TimeoutSec, or see the queue with Get-Ds01GpuAllocation -Queued.");
                throw new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, reason.StartsWith("Assoc", StringComparison.Ordinal) ? "ClusterQuotaReached" : "ClusterJobQueued",
                    $"Slurm cannot start the container now: job {jobId} is pending ({reason}); it was cancelled.", request.Name,
                    reason.StartsWith("Assoc", StringComparison.Ordinal)
                        ? "Your Slurm limit (GrpTRES) is in use: remove a container, or queue with -Wait."
                        : "Queue for it with -Wait [-TimeoutSec], or see the queue with Get-Ds01GpuAllocation -Queued.");
            }
            await Task.Delay(TimeSpan.FromSeconds(cluster.PollSeconds), ct).ConfigureAwait(false);
        }
    }
}

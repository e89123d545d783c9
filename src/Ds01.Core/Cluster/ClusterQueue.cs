using Ds01.Core.Gpu;
using Ds01.Core.Naming;

namespace Ds01.Core.Cluster;

/// <summary>Get-Ds01GpuAllocation -Queued on a cluster: Ds01's pending Slurm jobs, in Slurm's order (priority, then submit time).</summary>
public static class ClusterQueue
{
    public const string JobNamePrefix = "ds01:";

    public static async Task<IReadOnlyList<Ds01GpuAllocation>> QueuedAsync(Ds01Session session, CancellationToken ct)
    {
        var jobs = await new SlurmClient(session.Config.Cluster).JobsAsync(ct).ConfigureAwait(false);
        return Pending(jobs);
    }

    public static IReadOnlyList<Ds01GpuAllocation> Pending(IEnumerable<SlurmJob> jobs) =>
        jobs.Where(j => j.IsPending && j.Name.StartsWith(JobNamePrefix, StringComparison.Ordinal))
            .OrderByDescending(j => j.Priority).ThenBy(j => j.SubmitTime)
            .Select(j => new Ds01GpuAllocation
            {
                Container = ContainerNaming.ParseTag(j.Name[JobNamePrefix.Length..]).Name,
                User = j.User,
                Slots = j.Gres.StartsWith("gres:", StringComparison.Ordinal) ? j.Gres[5..] : j.Gres,
                State = GpuAllocationState.Queued,
                AllocatedAt = j.SubmitTime,
                Reason = j.Reason,
                JobId = j.JobId,
            }).ToList();
}

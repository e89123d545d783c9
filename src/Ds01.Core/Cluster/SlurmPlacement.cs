using System.Globalization;
using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Naming;

namespace Ds01.Core.Cluster;

/// <summary>
/// The placement of a container whose GPUs Slurm already allocated: no local lock or inventory (slurmctld decided,
/// and holds the GRES while the job lives); the job's GPU indices on its node become the container's slots,
/// CUDA_VISIBLE_DEVICES and, with attach: nvidia, its device request. The job id label is what the Epilog removes by.
/// </summary>
public sealed class SlurmPlacement : IGpuPlacement
{
    private readonly SlurmJob _job;
    private readonly Ds01Session _session;

    public SlurmPlacement(Ds01Session session, SlurmJob job)
    {
        _session = session;
        _job = job;
    }

    public Task<T> PlaceAsync<T>(GpuPlacementRequest? request, Func<GpuAssignment?, Task<T>> create, CancellationToken ct)
    {
        var slots = _job.GpuIndices.Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        var hold = request?.Limits.GpuHoldAfterStopMinutes ?? Labels.DefaultHoldMinutes;
        var assignment = slots.Count == 0 ? null : new GpuAssignment(slots, slots, slots.Count, hold);
        return create(assignment);
    }

    public Task PrecheckAsync(GpuPlacementRequest request, CancellationToken ct) => Task.CompletedTask;

    public void Apply(GpuAssignment assignment, CreateContainerParameters p)
    {
        var slots = string.Join(",", assignment.Slots);
        p.Labels[Labels.GpuSlots] = slots;
        p.Labels[Labels.GpuUuids] = slots;
        p.Labels[Labels.GpuAllocated] = _session.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        p.Labels[Labels.GpuWeight] = assignment.Weight.ToString("0.####", CultureInfo.InvariantCulture);
        p.Labels[Labels.AimeGpus] = slots;
        p.Labels[Labels.GpuHoldMinutes] = assignment.HoldMinutes.ToString(CultureInfo.InvariantCulture);
        // As Slurm sets them for the job's own processes: the node's indices of the allocated GRES.
        p.Env.Add($"CUDA_VISIBLE_DEVICES={slots}");
        p.Env.Add($"NVIDIA_VISIBLE_DEVICES={slots}");
        if (_session.Config.Gpu.Attach == GpuAttachMode.Simulated) return;
        p.HostConfig ??= new HostConfig();
        p.HostConfig.DeviceRequests = new List<DeviceRequest>
        {
            new() { Driver = "nvidia", DeviceIDs = assignment.Slots.ToList(), Capabilities = new List<IList<string>> { new List<string> { "gpu" } } },
        };
    }

    /// <summary>
    /// Everything the job decides about its container (GPU slots and labels, CUDA_VISIBLE_DEVICES, the device request,
    /// the cluster labels), in one step: ds01d on the node writes these from the job itself, never from the request
    /// (src/Ds01.Service/Policy/ClusterAdmission.cs).
    /// </summary>
    public void ApplyJob(CreateContainerParameters p, double holdMinutes)
    {
        var slots = _job.GpuIndices.Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (slots.Count > 0) Apply(new GpuAssignment(slots, slots, slots.Count, holdMinutes), p);
        Label(p);
    }

    /// <summary>Labels every cluster container carries, GPU or not.</summary>
    public void Label(CreateContainerParameters p)
    {
        p.Labels[ClusterLabels.Job] = _job.JobId.ToString(CultureInfo.InvariantCulture);
        if (_job.Node is not null) p.Labels[ClusterLabels.Node] = _job.Node;
        if (_job.Cluster is not null) p.Labels[ClusterLabels.Cluster] = _job.Cluster;
        if (_job.Gres.Length > 0) p.Labels[ClusterLabels.Gres] = _job.Gres.StartsWith("gres:", StringComparison.Ordinal) ? _job.Gres[5..] : _job.Gres;
        p.Env.Add($"SLURM_JOB_ID={_job.JobId.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>The job's allocation holds the GPUs for as long as it runs, so a start needs no re-check.</summary>
    public Task StartAsync(ContainerInspectResponse container, Func<Task> start, CancellationToken ct) => start();
}

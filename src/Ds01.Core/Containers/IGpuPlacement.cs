using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Identity;

namespace Ds01.Core.Containers;

/// <summary>GPU slots chosen for a container, and how they reach it.</summary>
/// <param name="HoldMinutes">The owner's gpu_hold_after_stop_minutes, fixed on the container at create.</param>
public sealed record GpuAssignment(IReadOnlyList<string> Slots, IReadOnlyList<string> Uuids, double Weight, double HoldMinutes);

/// <summary>A request for GPUs as part of a create.</summary>
public sealed record GpuPlacementRequest(UserIdentity User, Ds01ResourceLimit Limits, string ContainerTag, int Count, string? Slot,
    bool Wait, TimeSpan WaitTimeout);

/// <summary>
/// The GPU side of create and start. Create runs inside the allocation lock so that choosing the slot and
/// recording it in the container's labels is one step: no other create can see the slot as free in between.
/// </summary>
public interface IGpuPlacement
{
    Task<T> AllocateAsync<T>(GpuPlacementRequest request, Func<GpuAssignment, Task<T>> create, CancellationToken ct);

    /// <summary>A quick check without the lock: a request that cannot succeed (quota, or busy without -Wait) fails before slow work.</summary>
    Task PrecheckAsync(GpuPlacementRequest request, CancellationToken ct);

    /// <summary>Fills labels, env and DeviceRequests for the slots.</summary>
    void Apply(GpuAssignment assignment, CreateContainerParameters parameters);

    /// <summary>
    /// Starts a container that holds slots, under the allocation lock, after checking that none of its slots went to
    /// another container while its hold had expired (the GPU is fixed at create, so it cannot move).
    /// </summary>
    Task StartAsync(ContainerInspectResponse container, Func<Task> start, CancellationToken ct);
}

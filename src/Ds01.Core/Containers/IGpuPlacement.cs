using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Identity;

namespace Ds01.Core.Containers;

/// <summary>GPU slots chosen for a container, and how they reach it.</summary>
/// <param name="HoldMinutes">The owner's gpu_hold_after_stop_minutes, fixed on the container at create.</param>
public sealed record GpuAssignment(IReadOnlyList<string> Slots, IReadOnlyList<string> Uuids, double Weight, double HoldMinutes)
{
    /// <summary>Set for a -Wait request: until when its place in ds01d's queue is kept (sent as Labels.GpuWaitUntil, which ds01d strips).</summary>
    public DateTimeOffset? WaitUntil { get; init; }
    /// <summary>With WaitUntil: the request's GPU count and named slot (Labels.GpuWaitCount, GpuWaitSlot).</summary>
    public int WaitCount { get; init; }
    public string? WaitSlot { get; init; }
}

/// <summary>A request for GPUs as part of a create.</summary>
public sealed record GpuPlacementRequest(UserIdentity User, Ds01ResourceLimit Limits, string ContainerTag, int Count, string? Slot,
    bool Wait, TimeSpan WaitTimeout);

/// <summary>
/// Where a container runs, and the only code that takes the allocation lock. Create runs inside the lock so that
/// choosing the slot and recording it in the container's labels is one step: no other create can see the slot as
/// free in between. CPU-only creates hold the same lock, so per-user counts checked inside it are exact.
/// </summary>
public interface IGpuPlacement
{
    /// <summary>
    /// Runs <paramref name="create"/> under the allocation lock: with the chosen slots when <paramref name="request"/>
    /// asks for GPUs, with null for a CPU-only container.
    /// </summary>
    Task<T> PlaceAsync<T>(GpuPlacementRequest? request, Func<GpuAssignment?, Task<T>> create, CancellationToken ct);

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

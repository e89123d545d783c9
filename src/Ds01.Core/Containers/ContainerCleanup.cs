using Ds01.Core.Docker;
using Ds01.Core.Identity;

namespace Ds01.Core.Containers;

/// <summary>
/// container-cleanup: the owner's stopped containers with their sizes, then removal of those the host confirms
/// (through <see cref="ContainerService.RemoveAsync(string, UserIdentity, bool, CancellationToken)"/>, so the GPU is
/// freed and events written as for any remove), and the disk given back.
/// </summary>
public sealed class ContainerCleanup
{
    private readonly IContainerEngine _docker;
    private readonly ContainerService _containers;

    public ContainerCleanup(IContainerEngine docker, ContainerService containers)
    {
        _docker = docker;
        _containers = containers;
    }

    public async Task<(IReadOnlyList<CleanupCandidate> Stopped, long TotalBytes)> SurveyAsync(UserIdentity owner, CancellationToken ct)
    {
        var mine = await _containers.ListAsync(owner, ct).ConfigureAwait(false);
        var sizes = await _docker.ContainerSizesAsync(ct).ConfigureAwait(false);
        long Size(Ds01Container c) => sizes.GetValueOrDefault(c.Id);
        var stopped = mine.Where(c => c.State == ContainerState.Stopped)
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
            .Select(c => new CleanupCandidate(c, Size(c))).ToList();
        return (stopped, mine.Sum(Size));
    }

    public static Ds01CleanupResult Result(UserIdentity owner, IReadOnlyList<CleanupCandidate> removed, IReadOnlyList<CleanupCandidate> kept, long totalBefore)
    {
        var reclaimed = removed.Sum(r => r.SizeBytes);
        return new Ds01CleanupResult
        {
            User = owner.Name,
            Removed = string.Join(", ", removed.Select(r => r.Container.Name).Order(StringComparer.OrdinalIgnoreCase)),
            RemovedCount = removed.Count,
            Kept = string.Join(", ", kept.Select(r => r.Container.Name).Order(StringComparer.OrdinalIgnoreCase)),
            BytesReclaimed = reclaimed,
            RemainingBytes = Math.Max(0, totalBefore - reclaimed),
        };
    }

    /// <summary>Sizes as people read them (binary units, as docker ps --size).</summary>
    public static string Human(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{v:0.#} {units[u]}");
    }
}

using Ds01.Core.Cluster;
using Ds01.Core.Identity;

namespace Ds01.Core.Containers;

/// <summary>
/// Creating a container where the configured backend puts it: on this server (the create transaction), or with
/// `backend: slurm` as a Slurm job's workload on the node Slurm picks (already running once it exists). Deploy is
/// create, then start; the two steps stay visible: when the start fails, the error says the container was created
/// and how to go on, instead of a failed deploy that does not say which step failed.
/// </summary>
public sealed class ContainerDeployment
{
    private readonly ContainerCreation _creation;
    private readonly ContainerService _containers;
    private readonly ClusterContainerCreation? _cluster;

    /// <param name="cluster">The cluster create when the backend is Slurm; null on a single server.</param>
    public ContainerDeployment(ContainerCreation creation, ContainerService containers, ClusterContainerCreation? cluster = null)
    {
        _creation = creation;
        _containers = containers;
        _cluster = cluster;
    }

    /// <summary>container-create: not started on a single server; on a cluster the job's container runs at once.</summary>
    public Task<Ds01Container> CreateAsync(ContainerCreateRequest request, UserIdentity owner, CancellationToken ct) =>
        _cluster is not null ? _cluster.RunAsync(request, owner, ct) : _creation.RunAsync(request, owner, ct);

    public async Task<Ds01Container> DeployAsync(ContainerCreateRequest request, UserIdentity owner, CancellationToken ct)
    {
        if (_cluster is not null) return await _cluster.RunAsync(request, owner, ct).ConfigureAwait(false);
        var created = await _creation.RunAsync(request, owner, ct).ConfigureAwait(false);
        try
        {
            return await _containers.StartAsync(created.Name, owner, ct).ConfigureAwait(false);
        }
        catch (Ds01Exception e)
        {
            throw new Ds01Exception(e.Kind, e.ErrorId,
                $"Created container '{created.Name}', but starting it failed: {e.Message}", created.Name,
                $"{e.RecommendedAction ?? "Fix the cause named above."} Then start it with Start-Ds01Container {created.Name}, or remove it with Remove-Ds01Container {created.Name}.",
                e);
        }
    }
}

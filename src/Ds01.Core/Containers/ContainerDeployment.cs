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
    private readonly Func<string, ContainerService>? _nodeContainers;

    /// <param name="cluster">The cluster create when the backend is Slurm; null on a single server.</param>
    /// <param name="nodeContainers">With a cluster: the container service over a node's Docker endpoint (its docker_host).</param>
    public ContainerDeployment(ContainerCreation creation, ContainerService containers, ClusterContainerCreation? cluster = null,
        Func<string, ContainerService>? nodeContainers = null)
    {
        _creation = creation;
        _containers = containers;
        _cluster = cluster;
        _nodeContainers = nodeContainers;
    }

    /// <summary>
    /// Where -Open's shell goes: the container's id and shell, and the Docker endpoint that has it. On a cluster that
    /// is the docker_host of the node Slurm picked (cluster.yaml), not this server's; null means this server's.
    /// </summary>
    public async Task<(string? Endpoint, string Id, string Shell)> ShellTargetAsync(Ds01Container c, UserIdentity owner, string? shell,
        ClusterConfig cluster, CancellationToken ct)
    {
        if (_cluster is not null && _nodeContainers is not null && c.Node is { Length: > 0 } node)
        {
            var host = cluster.Node(node).DockerHost;
            var (nodeId, nodeShell) = await _nodeContainers(host).ShellTargetAsync(c.Name, owner, start: false, shell, ct).ConfigureAwait(false);
            return (host, nodeId, nodeShell);
        }
        var (id, sh) = await _containers.ShellTargetAsync(c.Name, owner, start: false, shell, ct).ConfigureAwait(false);
        return (null, id, sh);
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

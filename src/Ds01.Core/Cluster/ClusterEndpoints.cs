using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.Core.Cluster;

/// <summary>
/// Which Docker endpoint holds a named container, so Start-, Stop-, Remove-, Enter-Ds01Container and the rest act
/// where the container is: on a cluster a Slurm job's container lives at its node's docker_host (cluster.yaml),
/// which this server's DOCKER_HOST need not reach. The Node of a piped container names the endpoint; without it
/// this server's endpoint is asked first, then each other distinct node endpoint. Ownership is checked at the
/// endpoint as always (ContainerService.ResolveAsync): the resolver only chooses where to ask.
/// </summary>
public sealed class ClusterEndpoints
{
    private readonly Ds01Session _session;
    private readonly string _localEndpoint;
    private readonly ContainerService _local;
    private readonly Func<string, ContainerService> _at;

    /// <param name="localEndpoint">This server's Docker endpoint (the client's DOCKER_HOST or ds01d).</param>
    /// <param name="local">The container service over that endpoint.</param>
    /// <param name="at">The container service over another endpoint (a node's docker_host).</param>
    public ClusterEndpoints(Ds01Session session, string localEndpoint, ContainerService local, Func<string, ContainerService> at)
    {
        _session = session;
        _localEndpoint = localEndpoint;
        _local = local;
        _at = at;
    }

    /// <summary>
    /// The container service to act on <paramref name="name"/> through: this server's on a single server (where
    /// <paramref name="node"/> must be empty), the named node's when the container came with a Node, else the one
    /// endpoint that has it. Found on two endpoints or on none is an error, and nothing is changed.
    /// </summary>
    public async Task<ContainerService> ForAsync(string name, UserIdentity owner, string? node, CancellationToken ct)
    {
        var cluster = _session.Config.Cluster;
        if (!cluster.IsSlurm)
        {
            if (!string.IsNullOrEmpty(node))
                throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "NodeWithoutCluster",
                    $"-Node '{node}' was given for container '{name}', but this server is not a cluster ({cluster.File} has no backend: slurm). Nothing was changed.",
                    name, "Leave out -Node: every container here is on this server.");
            return _local;
        }
        if (!string.IsNullOrEmpty(node))
        {
            var host = Known(cluster, node, name).DockerHost;
            return string.Equals(host, _localEndpoint, StringComparison.Ordinal) ? _local : _at(host);
        }

        var endpoints = new List<string> { _localEndpoint };
        endpoints.AddRange(cluster.Nodes.Select(n => n.DockerHost).Distinct(StringComparer.Ordinal)
            .Where(h => !string.Equals(h, _localEndpoint, StringComparison.Ordinal)));
        var found = new List<(string Endpoint, string Id, ContainerService Service)>();
        Ds01Exception? notFound = null;
        var unreachable = new List<(string Endpoint, Ds01Exception Error)>();
        foreach (var endpoint in endpoints)
        {
            var service = endpoint == _localEndpoint ? _local : _at(endpoint);
            try
            {
                var c = await service.ResolveAsync(name, owner, ct).ConfigureAwait(false);
                // Two endpoint strings that reach one dockerd (the test lab's nodes) show the same container id: one place.
                if (found.All(f => f.Id != c.ID)) found.Add((endpoint, c.ID, service));
            }
            catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.NotFound) { notFound ??= e; }
            catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.ConnectionError) { unreachable.Add((endpoint, e)); }
        }
        if (found.Count == 1) return found[0].Service;
        if (found.Count > 1)
            throw new Ds01Exception(Ds01ErrorKind.InvalidData, "ContainerOnSeveralNodes",
                $"Container '{name}' exists on {found.Count} Docker endpoints ({string.Join(", ", found.Select(f => f.Endpoint))}), so Ds01 cannot tell which one you mean. Nothing was changed.",
                name, "Pipe it from Get-Ds01Container (its Node picks the endpoint), or pass -Node; an admin should remove the stray copy.");
        if (unreachable.Count > 0)
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "ContainerNodeUnreachable",
                $"Container '{name}' was not found on the endpoints that answered, and {string.Join(", ", unreachable.Select(u => u.Endpoint))} did not answer ({unreachable[0].Error.Message}). Nothing was changed.",
                name, "Pass -Node with the container's node (Get-Ds01Container shows it), or check that the node's ds01d runs (Get-Ds01SystemStatus -Node).");
        throw notFound!;
    }

    private static ClusterNode Known(ClusterConfig cluster, string node, string name) =>
        cluster.Nodes.FirstOrDefault(n => n.Name == node)
        ?? throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "UnknownNode",
            $"Node '{node}' (given for container '{name}') is not listed under slurm.nodes in {cluster.File}. Nothing was changed.", node,
            $"Use one of: {string.Join(", ", cluster.Nodes.Select(n => n.Name))} (Get-Ds01Container shows each container's Node).");
}

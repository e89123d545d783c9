using Ds01.Core.Identity;

namespace Ds01.Core.Containers;

/// <summary>
/// container-deploy: create, then start. The two steps stay visible: when the start fails, the error says the
/// container was created and how to go on, instead of a failed deploy that does not say which step failed.
/// </summary>
public sealed class ContainerDeployment
{
    private readonly ContainerCreation _creation;
    private readonly ContainerService _containers;

    public ContainerDeployment(ContainerCreation creation, ContainerService containers)
    {
        _creation = creation;
        _containers = containers;
    }

    public async Task<Ds01Container> DeployAsync(ContainerCreateRequest request, UserIdentity owner, CancellationToken ct)
    {
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

using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Ds01.Core.Naming;

namespace Ds01.Core.Completion;

/// <summary>
/// What tab completion offers for each kind of value, for pwsh's argument completers and ds01's bash completion:
/// containers by the state the command needs, images, projects, frameworks, GPU slots and (for admins) users.
/// Only names the caller may use are offered; the prefix match is case-insensitive.
/// </summary>
public sealed class CompletionSource
{
    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;

    public CompletionSource(Ds01Session session, IContainerEngine docker)
    {
        _session = session;
        _docker = docker;
    }

    /// <summary>
    /// The states a command acts on, so Tab offers only containers it can take: Start the created and stopped ones,
    /// Stop, Enter (without -Start), pause, exec and stats the running ones, Resume the paused ones; null for all.
    /// </summary>
    public static IReadOnlyCollection<ContainerState>? ContainerStatesFor(string commandName, bool startSwitch) => commandName switch
    {
        "Start-Ds01Container" => [ContainerState.Created, ContainerState.Stopped],
        "Stop-Ds01Container" => [ContainerState.Running, ContainerState.Paused],
        "Enter-Ds01Container" when !startSwitch => [ContainerState.Running],
        "Suspend-Ds01Container" or "Invoke-Ds01ContainerCommand" or "Get-Ds01ContainerStats" => [ContainerState.Running],
        "Resume-Ds01Container" => [ContainerState.Paused],
        _ => null,
    };

    public static IReadOnlyList<string> Matching(IEnumerable<string> candidates, string? prefix)
    {
        var p = (prefix ?? "").Trim('\'', '"');
        return candidates.Where(c => c.StartsWith(p, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.OrdinalIgnoreCase).ToList();
    }

    public async Task<IReadOnlyList<string>> ContainersAsync(UserIdentity owner, IReadOnlyCollection<ContainerState>? states, string? prefix, CancellationToken ct)
    {
        var all = await new ContainerService(_session, _docker).ListAsync(owner, ct).ConfigureAwait(false);
        return Matching(all.Where(c => states is null || states.Contains(c.State)).Select(c => c.Name), prefix);
    }

    /// <summary>The owner's images and the shared base images (what -Image accepts), as repository:tag.</summary>
    public async Task<IReadOnlyList<string>> ImagesAsync(UserIdentity owner, string? prefix, CancellationToken ct)
    {
        var images = await new ImageService(_session, _docker).ListAsync(owner, all: true, project: null, ct).ConfigureAwait(false);
        return Matching(images.Where(i => i.Uid is null || i.Uid == owner.Uid).Select(i => i.Name), prefix);
    }

    /// <summary>The owner's projects: those with an image (ds01-{uid}/{project}) and those with a saved Dockerfile.</summary>
    public async Task<IReadOnlyList<string>> ProjectsAsync(UserIdentity owner, string? prefix, CancellationToken ct)
    {
        var images = await new ImageService(_session, _docker).ListAsync(owner, all: false, project: null, ct).ConfigureAwait(false);
        var names = images.Where(i => i.Uid == owner.Uid && i.Project is not null).Select(i => i.Project!).ToList();
        try
        {
            var folder = Path.GetDirectoryName(new ImageService(_session, _docker).DockerfilePath(owner, "x"));
            if (folder is not null && Directory.Exists(folder))
                names.AddRange(Directory.EnumerateFiles(folder, "*.Dockerfile").Select(f => Path.GetFileName(f)[..^".Dockerfile".Length])
                    .Where(ContainerNaming.IsValidProject));
        }
        catch (IOException) { /* no Dockerfiles to offer */ }
        catch (UnauthorizedAccessException) { /* an admin completing for someone whose folder is closed */ }
        return Matching(names, prefix);
    }

    /// <summary>Framework names of the AIME catalog (ml_images.repo).</summary>
    public IReadOnlyList<string> Frameworks(string? prefix) =>
        Matching(new FrameworkCatalog(_session).Load().Entries.Select(e => e.Framework.ToLowerInvariant()), prefix);

    /// <summary>GPU slot ids as Get-Ds01Gpu shows them ("0", "2.1").</summary>
    public IReadOnlyList<string> GpuSlots(string? prefix) =>
        Matching(new GpuService(_session, _docker).Slots.Select(s => s.Slot), prefix);

    /// <summary>Accounts an admin may act for (configured users, group members, owners of containers); others get only themselves.</summary>
    public async Task<IReadOnlyList<string>> UsersAsync(string? prefix, CancellationToken ct)
    {
        if (!_session.Access.CallerIsAdmin) return Matching([_session.Caller.Name], prefix);
        var config = _session.Config.ResourceLimits;
        var names = new List<string> { _session.Caller.Name };
        names.AddRange(config.Users.Keys);
        names.AddRange(config.Groups.Values.SelectMany(g => g.Members));
        var containers = await new ContainerService(_session, _docker).ListAllAsync(ct).ConfigureAwait(false);
        names.AddRange(containers.Select(c => c.User).Where(u => !string.IsNullOrEmpty(u)));
        return Matching(names, prefix);
    }
}

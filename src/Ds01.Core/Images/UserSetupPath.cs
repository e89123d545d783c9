using System.Globalization;
using System.Text.RegularExpressions;
using Docker.DotNet.Models;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Core.Naming;

namespace Ds01.Core.Images;

/// <summary>The image a container is created from, and what the user should hear about that choice.</summary>
public sealed record CreateSource(string Image, bool FastPath, string? LegacyImage, IReadOnlyList<string> Notes, IReadOnlyList<string> Warnings);

/// <summary>
/// An image with DS01_HAS_USER_SETUP and the owner's UID/GID is used as it is (the fast path). Any other
/// image takes AIME's legacy path: a temporary root container runs the user-setup script, is committed as
/// {image repository}:{name}._.{uid}, and removed; the container is then created from the commit.
/// </summary>
public sealed class UserSetupPath
{
    private readonly IContainerEngine _docker;

    public UserSetupPath(IContainerEngine docker) => _docker = docker;

    public const string SetupContainerPrefix = "ds01-setup-";

    /// <summary>The temporary container's name, ds01-setup-NAME._.UID-xxxxxxxx (groups: NAME, UID), as Docker lists it (leading '/') or not.</summary>
    public static readonly Regex SetupContainerName = new(@"^/?ds01-setup-([a-zA-Z0-9][a-zA-Z0-9_.-]*)\._\.([0-9]+)-[0-9a-f]{8}$", RegexOptions.CultureInvariant);

    public static bool HasUserSetup(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(Labels.HasUserSetup, out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);

    public static int? LabelInt(IDictionary<string, string>? labels, string key) =>
        labels is not null && labels.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The repository part of a reference (tag and digest cut off), for the legacy commit's name.</summary>
    public static string Repository(string reference)
    {
        var at = reference.IndexOf('@');
        if (at >= 0) reference = reference.Substring(0, at);
        var colon = reference.LastIndexOf(':');
        return colon > reference.LastIndexOf('/') ? reference.Substring(0, colon) : reference;
    }

    public async Task<CreateSource> PrepareAsync(ImageInspectResponse imageInfo, string image, string tag, UserIdentity owner, CancellationToken ct)
    {
        var labels = imageInfo.Config?.Labels;
        var warnings = new List<string>();
        if (HasUserSetup(labels))
        {
            var uid = LabelInt(labels, Labels.ImageUserId);
            var gid = LabelInt(labels, Labels.ImageGroupId);
            if (uid == owner.Uid && gid == owner.Gid)
                return new CreateSource(image, true, null, [$"Fast path: '{image}' has the user {owner.Uid}:{owner.Gid} built in."], warnings);
            var project = labels!.TryGetValue(Labels.Project, out var p) && !string.IsNullOrEmpty(p) ? p : "<project>";
            warnings.Add($"The image '{image}' was built for UID/GID {uid?.ToString(CultureInfo.InvariantCulture) ?? "?"}:" +
                         $"{gid?.ToString(CultureInfo.InvariantCulture) ?? "?"}, not {owner.Uid}:{owner.Gid}; using the slower legacy path. " +
                         $"Rebuild it for this user with: Build-Ds01Image -Project {project} -Force");
        }

        // A reference by ID has no repository to tag under; the owner's own namespace takes it.
        var repository = image.StartsWith("sha256:", StringComparison.Ordinal) || imageInfo.ID.StartsWith("sha256:" + image, StringComparison.Ordinal)
            ? ContainerNaming.LegacyRepository(owner.Uid)
            : Repository(image);
        // Never into another user's namespace: a commit of B's ds01-<B>/p made for A is A's image, ds01-<A>/p.
        if (ImageService.OwnerUid(repository) is { } other && other != owner.Uid)
            repository = ContainerNaming.ImageRepository(owner.Uid, repository.Substring(repository.IndexOf('/') + 1));
        var legacy = $"{repository}:{tag}";
        ImageReference.Validate(legacy);
        await CommitWithUserAsync(imageInfo, image, repository, tag, owner, ct).ConfigureAwait(false);
        return new CreateSource(legacy, false, legacy,
            [$"Legacy path: '{image}' has no user setup for {owner.Uid}:{owner.Gid}; committed '{legacy}' with the user added."], warnings);
    }

    /// <summary>
    /// Setup containers of an earlier create of the same tag that never got cleaned up (dockerd restarted or the
    /// client was killed between create and remove): nothing else can be using them, as the tag is free.
    /// </summary>
    private async Task RemoveLeftoversAsync(string tag, CancellationToken ct)
    {
        var prefix = $"/{SetupContainerPrefix}{tag}-";
        var all = await _docker.ListContainersAsync(new Dictionary<string, bool> { [Labels.Managed + "=true"] = true }, ct).ConfigureAwait(false);
        foreach (var c in all.Where(c => c.Names?.Any(n => n.StartsWith(prefix, StringComparison.Ordinal)) == true))
        {
            try { await _docker.RemoveContainerAsync(c.ID, force: true, ct).ConfigureAwait(false); }
            catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.NotFound) { /* gone meanwhile */ }
        }
    }

    private async Task CommitWithUserAsync(ImageInspectResponse imageInfo, string image, string repository, string tag, UserIdentity owner, CancellationToken ct)
    {
        await RemoveLeftoversAsync(tag, ct).ConfigureAwait(false);
        var command = UserSetupScript.Command(owner.Uid, owner.Gid, owner.SanitizedName);
        // Entrypoint/Cmd split so the commit can restore the image's own Entrypoint and Cmd below.
        var id = await _docker.CreateContainerAsync(new CreateContainerParameters
        {
            Name = $"{SetupContainerPrefix}{tag}-{Guid.NewGuid().ToString("N")[..8]}",
            Image = image,
            User = "0:0",
            Entrypoint = [command[0]],
            Cmd = command.Skip(1).ToList(),
            Labels = new Dictionary<string, string> { [Labels.Managed] = "true" },
            // The script needs no network; nothing in the temporary container can reach out.
            HostConfig = new HostConfig { NetworkMode = "none" },
        }, ct).ConfigureAwait(false);
        try
        {
            await _docker.StartContainerAsync(id, ct).ConfigureAwait(false);
            var exit = await _docker.WaitContainerAsync(id, ct).ConfigureAwait(false);
            if (exit != 0)
            {
                var (stdout, stderr) = await _docker.GetContainerLogsAsync(id, ct).ConfigureAwait(false);
                var output = (stderr.Trim().Length > 0 ? stderr : stdout).Trim();
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "UserSetupFailed",
                    $"Adding user {owner.SanitizedName} ({owner.Uid}:{owner.Gid}) to '{image}' failed with exit code {exit}: {output}", image,
                    "Build a project image instead (Build-Ds01Image), whose user setup runs at build time.");
            }
            var original = imageInfo.Config;
            // Docker merges the commit's config over the container's: restoring the image's own Entrypoint, Cmd and
            // User keeps the setup command out of the committed image. An image without a Cmd gets /bin/sh, as
            // otherwise the setup command would be merged back in.
            var labels = new Dictionary<string, string>(original?.Labels ?? new Dictionary<string, string>())
            {
                [Labels.LegacyCommit] = "true",
                [Labels.BaseImage] = image,
                [Labels.UserId] = owner.Uid.ToString(CultureInfo.InvariantCulture),
                [Labels.GroupId] = owner.Gid.ToString(CultureInfo.InvariantCulture),
                [Labels.Username] = owner.SanitizedName,
            };
            // A mismatched fast-path image keeps its labels otherwise; they no longer describe this commit's user.
            if (labels.ContainsKey(Labels.HasUserSetup)) labels[Labels.HasUserSetup] = "false";
            var hasCmd = original?.Cmd is { Count: > 0 } || original?.Entrypoint is { Count: > 0 };
            await _docker.CommitContainerAsync(new CommitContainerChangesParameters
            {
                ContainerID = id,
                RepositoryName = repository,
                Tag = tag,
                Comment = $"ds01 legacy user setup for {owner.Uid}:{owner.Gid}",
                Entrypoint = original?.Entrypoint is { Count: > 0 } e ? e : [],
                Cmd = hasCmd ? original?.Cmd ?? [] : ["/bin/sh"],
                User = string.IsNullOrEmpty(original?.User) ? "0:0" : original!.User,
                WorkingDir = original?.WorkingDir ?? "",
                Env = original?.Env ?? [],
                Labels = labels,
            }, ct).ConfigureAwait(false);
        }
        finally
        {
            try { await _docker.RemoveContainerAsync(id, force: true, CancellationToken.None).ConfigureAwait(false); }
            catch (Ds01Exception) { /* the container is gone already, or the daemon is: nothing more to clean */ }
        }
    }
}

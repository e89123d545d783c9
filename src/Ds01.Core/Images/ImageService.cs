using System.Globalization;
using System.Text.RegularExpressions;
using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Core.Naming;

namespace Ds01.Core.Images;

/// <summary>What New-Ds01Dockerfile and Build-Ds01Image are asked for.</summary>
public sealed class DockerfileRequest
{
    public string Project { get; init; } = "";
    public string? Framework { get; init; }
    public string? FrameworkVersion { get; init; }
    /// <summary>An explicit FROM image; skips the catalog lookup.</summary>
    public string? BaseImage { get; init; }
    /// <summary>AIME architecture token (CUDA_ADA, ...); null takes the first catalog row for the framework.</summary>
    public string? Architecture { get; init; }
    public UseCase UseCase { get; init; } = UseCase.Custom;
    public IReadOnlyList<string> Packages { get; init; } = [];
    public bool Jupyter { get; init; }
    public bool DataScience { get; init; }
}

/// <summary>One line of a build log; Step/StepCount are set on docker's "Step n/m : ..." lines.</summary>
public sealed record BuildMessage(string Line, int? Step, int? StepCount);

/// <summary>
/// Image use-cases: Dockerfile generation, build through the Docker API, listing with the containers that use
/// each image, removal that refuses images in use, package updates. Users only ever touch ds01-{their uid}/...
/// images and their own legacy commits (...:name._.{uid}); every change is written to the event log.
/// </summary>
public sealed class ImageService
{
    private static readonly Regex StepLine = new(@"^Step (\d+)/(\d+) :", RegexOptions.CultureInvariant);
    // The classic builder prints " ---> <id>" for the image each step leaves.
    private static readonly Regex LayerLine = new(@"^ ---> ([0-9a-f]{12,64})$", RegexOptions.CultureInvariant);

    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;

    public ImageService(Ds01Session session, IContainerEngine docker)
    {
        _session = session;
        _docker = docker;
    }

    // ---------- Dockerfiles ----------

    /// <summary>The Dockerfile text; a catalog fallback (other version, Docker Hub) is said as a warning.</summary>
    public string GenerateDockerfile(DockerfileRequest request, UserIdentity owner)
    {
        ContainerNaming.ValidateProject(request.Project);
        var (baseImage, framework, version, warning) = ResolveBase(request);
        var text = DockerfileGenerator.Generate(new DockerfileSpec
        {
            Project = request.Project, BaseImage = baseImage, Framework = framework, Version = version,
            UseCase = request.UseCase, Packages = request.Packages, Jupyter = request.Jupyter, DataScience = request.DataScience,
            UserName = owner.SanitizedName, Uid = owner.Uid, Gid = owner.Gid,
        });
        if (warning is not null) _session.Feedback.Warn(warning);
        return text;
    }

    /// <summary>The base image a framework (and version) resolves to in the AIME catalog, as a build would use it.</summary>
    public (string Image, string? Warning) FrameworkImage(string framework, string? version, string? architecture)
    {
        var (image, _, _, warning) = ResolveBase(new DockerfileRequest { Project = framework, Framework = framework, FrameworkVersion = version, Architecture = architecture });
        return (image, warning);
    }

    /// <summary>
    /// image-pull: fetches a base image (given, or the framework's AIME image) unless it is here already. Ds01's own
    /// ds01-{uid}/ images are built, never pulled.
    /// </summary>
    public async Task<Ds01Image> PullAsync(string reference, UserIdentity owner, IProgress<BuildMessage> progress, CancellationToken ct)
    {
        ImageReference.Validate(reference);
        if (OwnerUid(reference) is not null)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "ProjectImageNotPullable",
                $"'{reference}' is a Ds01 project image; those are built here from a Dockerfile, not pulled.", reference,
                "Build it with Build-Ds01Image (image-create), or pull a base image such as an AIME framework image.");
        var here = await _docker.InspectImageAsync(reference, ct).ConfigureAwait(false);
        if (here is null)
        {
            await _docker.PullImageAsync(reference, new SyncProgress<JSONMessage>(m =>
            {
                var line = $"{m.ID} {m.Status}".Trim();
                if (line.Length > 0) progress.Report(new BuildMessage(line, null, null));
            }), ct).ConfigureAwait(false);
            Log("image.pull", owner, new Dictionary<string, object?> { ["image"] = reference });
        }
        else _session.Feedback.Note($"'{reference}' is here already; nothing was pulled.");
        var images = await ListAsync(owner, all: true, project: null, ct).ConfigureAwait(false);
        return images.FirstOrDefault(i => i.Name == reference || i.Name == reference + ":latest")
            ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "ImageNotFound", $"The image '{reference}' is not here after the pull.", reference);
    }

    private (string Image, string? Framework, string? Version, string? Warning) ResolveBase(DockerfileRequest r)
    {
        if (r.BaseImage is not null)
        {
            ImageReference.Validate(r.BaseImage);
            return (r.BaseImage, r.Framework, r.FrameworkVersion, null);
        }
        if (string.IsNullOrEmpty(r.Framework))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "FrameworkRequired", "Give a framework or a base image.", r.Project,
                "Pass -Framework (e.g. Pytorch; Get-Ds01Framework lists them) or -BaseImage.");
        var frameworks = new FrameworkCatalog(_session);
        var file = frameworks.CatalogFile;
        if (file is null)
        {
            // Without AIME's catalog, fall back to Docker Hub's framework images.
            var hub = ImageCatalog.DockerHubFallback(r.Framework, r.FrameworkVersion);
            return (hub, r.Framework, r.FrameworkVersion, $"No AIME catalog is installed; building FROM {hub} (Docker Hub).");
        }
        var catalog = ImageCatalog.Load(file);
        var architecture = r.Architecture ?? frameworks.Architecture;
        if (architecture is not null)
        {
            var resolved = catalog.Resolve(r.Framework, r.FrameworkVersion, architecture);
            return (resolved.Image, resolved.Framework, resolved.Version, resolved.Warning);
        }
        // Without an architecture the first matching row wins: the catalog lists the newest images first.
        var exact = catalog.Find(r.Framework, r.FrameworkVersion, null).FirstOrDefault();
        if (exact is not null) return (exact.Image, exact.Framework, exact.Version, null);
        var any = catalog.Find(r.Framework, null, null).FirstOrDefault()
            ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "FrameworkNotFound",
                $"Framework '{r.Framework}' is not in the AIME catalog {file}. Available: " +
                string.Join(", ", catalog.Entries.Select(e => e.Framework).Distinct(StringComparer.OrdinalIgnoreCase)) + ".",
                r.Framework, "Pick a framework the catalog lists, or pass -BaseImage.");
        return (any.Image, any.Framework, any.Version, $"Version {r.FrameworkVersion} not found, using: {any.Image}");
    }

    /// <summary>~/dockerfiles/{project}.Dockerfile (AIME's place for them), or under resource-limits.yaml's dockerfiles_root.</summary>
    public string DockerfilePath(UserIdentity owner, string project)
    {
        ContainerNaming.ValidateProject(project);
        var root = _session.Config.ResourceLimits.DockerfilesRoot ?? Configuration.ResourceLimitsConfig.DefaultDockerfilesRoot;
        return Path.Combine(Path.GetFullPath(MountPolicy.Expand(root, owner, null)), project + ".Dockerfile");
    }

    /// <summary>
    /// The Dockerfile Build-Ds01Image builds: the file the user gave (<paramref name="givenPath"/>), else one generated
    /// from <paramref name="generate"/> (a framework or base image was given), else the project's saved one.
    /// </summary>
    public string ChooseDockerfile(UserIdentity owner, string project, string? givenPath, DockerfileRequest? generate)
    {
        if (givenPath is not null)
        {
            if (!File.Exists(givenPath))
                throw new Ds01Exception(Ds01ErrorKind.NotFound, "DockerfileNotFound", $"The Dockerfile '{givenPath}' does not exist.", givenPath, "Check -Path.");
            return File.ReadAllText(givenPath);
        }
        if (generate is not null) return GenerateDockerfile(generate, owner);
        var stored = DockerfilePath(owner, project);
        if (ReadStored(owner, stored) is { } saved) return saved;
        throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "FrameworkRequired",
            $"Project '{project}' has no Dockerfile yet ({stored}).", project, "Pass -Framework (or -BaseImage, or -Path).");
    }

    /// <summary>Saves the text as the project's Dockerfile (what Update-Ds01Image edits later) unless it is already that.</summary>
    public string KeepDockerfile(UserIdentity owner, string project, string text)
    {
        var stored = DockerfilePath(owner, project);
        if (UserTree.ActingForOther(_session.Caller, owner) ? UserTree.ReadFile(stored, owner) != text
            : !File.Exists(stored) || new FileInfo(stored).LinkTarget is not null || File.ReadAllText(stored) != text)
            SaveDockerfile(stored, text, owner);
        return stored;
    }

    /// <summary>
    /// A project's saved Dockerfile, null when there is none. An admin acting for the owner reads it without following
    /// the owner's links (UserTree.ReadFile): ~/dockerfiles -> a root-only directory must not feed root's files to the build.
    /// </summary>
    public string? ReadStored(UserIdentity owner, string path) =>
        UserTree.ActingForOther(_session.Caller, owner) ? UserTree.ReadFile(path, owner)
        : File.Exists(path) ? ReadStoredDockerfile(path) : null;

    /// <summary>A project's saved Dockerfile; a symlink there is refused (it could point an admin's build at any file).</summary>
    public static string ReadStoredDockerfile(string path)
    {
        if (new FileInfo(path).LinkTarget is not null)
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "DockerfileIsSymlink",
                $"The saved Dockerfile '{path}' is a symbolic link; Ds01 only uses regular files there.", path,
                "Replace the link with the Dockerfile itself, or build with -Path.");
        return File.ReadAllText(path);
    }

    public void SaveDockerfile(string path, string text, UserIdentity owner)
    {
        if (UserTree.ActingForOther(_session.Caller, owner))
        {
            // An admin writing into a user's tree: no link of theirs is followed, directories included.
            UserTree.WriteFile(path, text, owner, chown: _session.Caller.Uid == 0 && owner.Uid != 0);
            return;
        }
        var dir = Path.GetDirectoryName(path)!;
        var created = !Directory.Exists(dir);
        Directory.CreateDirectory(dir);
        // Write a new file and rename it over the old name: a symlink the user planted at that name is replaced,
        // never followed (root writing ~alice/dockerfiles/p.Dockerfile -> /etc/passwd must not touch /etc/passwd).
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        using (var w = new StreamWriter(f)) w.Write(text);
        // An admin (root) writing into another user's home leaves the files to that user.
        if (_session.Caller.Uid == 0 && owner.Uid != 0)
        {
            if (created) Posix.Lchown(dir, owner.Uid, owner.Gid);
            Posix.Lchown(temp, owner.Uid, owner.Gid);
        }
        File.Move(temp, path, overwrite: true);
    }

    // ---------- build ----------

    /// <summary>Builds ds01-{uid}/{project}:latest; an existing image is only replaced with force.</summary>
    public async Task<Ds01Image> BuildAsync(string project, string dockerfileText, UserIdentity owner, bool noCache, bool force,
        IProgress<BuildMessage> progress, CancellationToken ct)
    {
        var reference = ContainerNaming.ImageName(owner.Uid, project);
        var existing = await _docker.InspectImageAsync(reference, ct).ConfigureAwait(false);
        if (existing is not null && !force)
            throw new Ds01Exception(Ds01ErrorKind.AlreadyExists, "ImageExists", $"The image '{reference}' already exists.", reference,
                $"Pass -Force to rebuild it, or change packages with Update-Ds01Image -Project {project}.");
        var started = _session.Clock.GetTimestamp();
        var image = await BuildCoreAsync(project, reference, dockerfileText, noCache, progress, ct).ConfigureAwait(false);
        Log("image.build", owner, new Dictionary<string, object?>
        {
            ["image"] = reference, ["project"] = project, ["image_id"] = image.Id, ["base_image"] = image.BaseImage,
            ["no_cache"] = noCache, ["rebuild"] = existing is not null,
            ["duration_seconds"] = Math.Round(_session.Clock.GetElapsedTime(started).TotalSeconds, 1),
        });
        WarnOldContainers(existing, image, await _docker.ListContainersAsync(null, ct).ConfigureAwait(false));
        return image;
    }

    private async Task<Ds01Image> BuildCoreAsync(string project, string reference, string dockerfileText, bool noCache,
        IProgress<BuildMessage> progress, CancellationToken ct)
    {
        string? step = null;
        string? error = null;
        string? lastLayer = null;
        var log = new SyncProgress<JSONMessage>(m =>
        {
            if (m.Error is { } e && !string.IsNullOrEmpty(e.Message)) error = e.Message.Trim();
            var text = (m.Stream ?? m.Status ?? "").TrimEnd('\r', '\n');
            if (text.Length == 0) return;
            foreach (var line in text.Split('\n'))
            {
                var match = StepLine.Match(line);
                if (match.Success) step = line.Trim();
                if (LayerLine.Match(line.TrimEnd('\r')) is { Success: true } layer) lastLayer = layer.Groups[1].Value;
                progress.Report(new BuildMessage(line.TrimEnd('\r'),
                    match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null,
                    match.Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : null));
            }
        });
        using var context = BuildContext.Create(dockerfileText);
        try
        {
            await _docker.BuildImageAsync(context, new ImageBuildParameters
            {
                Tags = [reference], Dockerfile = BuildContext.DockerfileName, NoCache = noCache, Remove = true, ForceRemove = true,
            }, log, ct).ConfigureAwait(false);
        }
        catch (Ds01Exception e) when (e.Kind != Ds01ErrorKind.ConnectionError)
        {
            error ??= e.Message;
        }
        if (error is not null)
        {
            await RemoveFailedBuildLayerAsync(lastLayer).ConfigureAwait(false);
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ImageBuildFailed",
                $"Building '{reference}' failed{(step is null ? "" : $" at {step}")}: {error}", reference,
                $"Fix that step in the Dockerfile, then run Update-Ds01Image -Project {project} -Rebuild.");
        }
        var built = await _docker.InspectImageAsync(reference, ct).ConfigureAwait(false)
            ?? throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ImageBuildFailed",
                $"Docker reported no error, but '{reference}' does not exist after the build{(step is null ? "" : $" (last step: {step})")}.", reference);
        var containers = await _docker.ListContainersAsync(null, ct).ConfigureAwait(false);
        return Map(reference, built.ID, built.Size, built.Created ?? DateTime.UnixEpoch, built.Config?.Labels, containers);
    }

    /// <summary>
    /// A failed build leaves the image of its last good step behind, untagged; remove it (and, as Docker does, its
    /// untagged parents). A tagged image (the base, when the first step failed) or one other images build on stays.
    /// </summary>
    private async Task RemoveFailedBuildLayerAsync(string? id)
    {
        if (id is null) return;
        try
        {
            var layer = await _docker.InspectImageAsync(id, CancellationToken.None).ConfigureAwait(false);
            if (layer is null || (layer.RepoTags?.Count ?? 0) > 0) return;
            await _docker.RemoveImageAsync(layer.ID, force: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Ds01Exception) { /* in use or a parent: keep it, the build error matters more */ }
    }

    private void WarnOldContainers(ImageInspectResponse? old, Ds01Image now, IList<ContainerListResponse> containers)
    {
        if (old is null || old.ID == now.Id) return;
        var stale = containers.Where(c => c.ImageID == old.ID).Select(ContainerName).ToList();
        if (stale.Count > 0)
            _session.Feedback.Warn($"Containers still on the old image of {now.Name}: {string.Join(", ", stale)}. " +
                         "Recreate them (Remove-Ds01Container, then New-Ds01Container) to use the new one.");
    }

    // ---------- update ----------

    public async Task<Ds01Image> UpdateAsync(string project, UserIdentity owner, IReadOnlyList<string> add, IReadOnlyList<string> remove,
        bool rebuild, bool noCache, IProgress<BuildMessage> progress, CancellationToken ct)
    {
        foreach (var p in add) DockerfileGenerator.ValidatePackage(p);
        var path = DockerfilePath(owner, project);
        var text = ReadStored(owner, path)
            ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "DockerfileNotFound", $"There is no Dockerfile for project '{project}' at {path}.", path,
                $"Create the image first: Build-Ds01Image -Project {project} -Framework <framework>.");
        var before = DockerfileGenerator.ReadPackages(text);
        var packages = before.ToList();
        foreach (var p in add.Where(p => !packages.Contains(p, StringComparer.OrdinalIgnoreCase))) packages.Add(p);
        foreach (var p in remove)
            if (packages.RemoveAll(x => string.Equals(x, p, StringComparison.OrdinalIgnoreCase)) == 0)
                _session.Feedback.Warn($"'{p}' is not among the extra packages of {project} ({(before.Count == 0 ? "none" : string.Join(", ", before))}).");
        var changed = !packages.SequenceEqual(before, StringComparer.OrdinalIgnoreCase);
        if (!changed && !rebuild)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "NothingToUpdate", $"The packages of '{project}' did not change.", project,
                "Pass -AddPackage or -RemovePackage, or -Rebuild after editing the Dockerfile by hand.");
        if (changed)
        {
            text = DockerfileGenerator.ReplacePackages(text, packages);
            SaveDockerfile(path, text, owner);
        }
        var reference = ContainerNaming.ImageName(owner.Uid, project);
        var old = await _docker.InspectImageAsync(reference, ct).ConfigureAwait(false);
        var image = await BuildCoreAsync(project, reference, text, noCache, progress, ct).ConfigureAwait(false);
        Log("image.update", owner, new Dictionary<string, object?>
        {
            ["image"] = reference, ["project"] = project, ["image_id"] = image.Id,
            ["added"] = string.Join(",", packages.Except(before, StringComparer.OrdinalIgnoreCase)),
            ["removed"] = string.Join(",", before.Except(packages, StringComparer.OrdinalIgnoreCase)),
            ["rebuild"] = rebuild, ["no_cache"] = noCache,
        });
        WarnOldContainers(old, image, await _docker.ListContainersAsync(null, ct).ConfigureAwait(false));
        return image;
    }

    // ---------- list and remove ----------

    /// <summary>
    /// The owner's images (ds01-{uid}/... and legacy commits); with all, base images too. Admins with all see every
    /// image. project may use '*' wildcards.
    /// </summary>
    public async Task<IReadOnlyList<Ds01Image>> ListAsync(UserIdentity owner, bool all, string? project, CancellationToken ct)
    {
        var images = await _docker.ListImagesAsync(ct).ConfigureAwait(false);
        var containers = await _docker.ListContainersAsync(null, ct).ConfigureAwait(false);
        var everything = all && _session.Access.CallerIsAdmin && owner.Uid == _session.Caller.Uid;
        var match = project is null ? null
            : new Regex("^" + Regex.Escape(project).Replace("\\*", ".*").Replace("\\?", ".") + "\\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var result = new List<Ds01Image>();
        foreach (var i in images)
            foreach (var tag in i.RepoTags ?? [])
            {
                if (tag == "<none>:<none>") continue;
                var image = Map(tag, i.ID, i.Size, i.Created, i.Labels, containers);
                var keep = image.Uid == owner.Uid || (all && image.Uid is null) || everything;
                if (keep && (match is null || (image.Project is not null && match.IsMatch(image.Project)))) result.Add(image);
            }
        return result.OrderBy(x => x.Uid is null).ThenBy(x => x.Repository, StringComparer.Ordinal).ThenBy(x => x.Tag, StringComparer.Ordinal).ToList();
    }

    public string ProjectReference(UserIdentity owner, string project)
    {
        ContainerNaming.ValidateProject(project);
        return ContainerNaming.ImageName(owner.Uid, project);
    }

    /// <summary>Removes one tag of a Ds01 image; refuses base images, other users' images and images a container uses.</summary>
    public async Task RemoveAsync(string reference, UserIdentity owner, CancellationToken ct)
    {
        if (!ImageReference.IsValid(reference))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidImageReference", $"'{reference}' is not a valid image reference.", reference,
                "Use a name Get-Ds01Image shows, e.g. ds01-1001/my-project:latest, or -Project.");
        var uid = OwnerUid(reference);
        if (uid is null)
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "NotADs01Image",
                $"'{reference}' is not a Ds01 image (ds01-<uid>/<project> or a legacy <image>:<name>._.<uid> commit); Ds01 does not remove shared base images.",
                reference, "Ask an admin to remove base images with docker rmi.");
        _session.Access.DemandOwnerOrAdmin(null, uid, $"Image '{reference}'");
        var info = await _docker.InspectImageAsync(reference, ct).ConfigureAwait(false)
            ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "ImageNotFound", $"The image '{reference}' does not exist.", reference,
                "Get-Ds01Image lists your images.");
        var users = (await _docker.ListContainersAsync(null, ct).ConfigureAwait(false)).Where(c => c.ImageID == info.ID).Select(ContainerName).ToList();
        if (users.Count > 0)
            throw new Ds01Exception(Ds01ErrorKind.ResourceBusy, "ImageInUse",
                $"The image '{reference}' is used by {(users.Count == 1 ? "container" : "containers")} {string.Join(", ", users)}; it was not removed.",
                reference, "Remove those containers first (Remove-Ds01Container), then the image.");
        await _docker.RemoveImageAsync(reference, force: false, ct).ConfigureAwait(false);
        var who = uid == owner.Uid ? owner : _session.Identities.FindByUid(uid.Value) ?? owner;
        Log("image.delete", who, new Dictionary<string, object?> { ["image"] = reference, ["image_id"] = info.ID });
    }

    /// <summary>
    /// A user's ds01-{uid}/ images are theirs alone (their Dockerfiles and setup are baked in): a non-admin may
    /// create containers only from their own images and shared base images. By ID or digest the image's tags
    /// decide: an image tagged only into other users' namespaces is off limits.
    /// </summary>
    public static void DemandImageAccess(Ds01Session session, string reference, ImageInspectResponse info, UserIdentity owner)
    {
        if (session.Access.CallerIsAdmin) return;
        DemandImageAccess(reference, info.RepoTags, owner.Uid);
    }

    /// <summary>
    /// The rule itself, for any host that admits creates (ds01d too): an image named in another uid's namespace, or
    /// reached by id or digest when every name it has is another uid's, is not this uid's to use.
    /// </summary>
    public static void DemandImageAccess(string reference, IEnumerable<string>? repoTags, int uid)
    {
        var named = OwnerUid(reference);
        var tagged = (repoTags ?? Enumerable.Empty<string>()).Where(t => t != "<none>:<none>").Select(OwnerUid).ToList();
        var foreign = named is { } n ? n != uid : tagged.Count > 0 && tagged.All(u => u is { } x && x != uid);
        if (!foreign) return;
        throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "ImageNotYours",
            $"The image '{reference}' belongs to another user; you may use your own images (ds01-{uid}/...) and shared base images.",
            reference, "Build your own with Build-Ds01Image, or ask its owner for their Dockerfile (New-Ds01Dockerfile).");
    }

    /// <summary>The UID in ds01-{uid}/... or in a legacy commit's tag name._.{uid}; null for anything else.</summary>
    public static int? OwnerUid(string reference)
    {
        var repository = UserSetupPath.Repository(reference);
        if (ContainerNaming.ParseImageRepository(repository) is { } own) return own.Uid;
        var tag = reference.Length > repository.Length ? reference.Substring(repository.Length + 1) : "";
        return tag.Contains(ContainerNaming.Separator, StringComparison.Ordinal) ? ContainerNaming.ParseTag(tag).Uid : null;
    }

    // The user-facing name (the part before "._."), as every other cmdlet shows it; plain docker names stay whole.
    private static string ContainerName(ContainerListResponse c) =>
        c.Names?.FirstOrDefault() is { } name ? ContainerNaming.ParseTag(name).Name : c.ID[..12];

    internal static Ds01Image Map(string reference, string id, long size, DateTime created, IDictionary<string, string>? labels,
        IList<ContainerListResponse> containers)
    {
        labels ??= new Dictionary<string, string>();
        var repository = UserSetupPath.Repository(reference);
        var tag = reference.Length > repository.Length ? reference.Substring(repository.Length + 1) : "";
        var own = ContainerNaming.ParseImageRepository(repository);
        var legacy = tag.Contains(ContainerNaming.Separator, StringComparison.Ordinal) ||
                     (labels.TryGetValue(Labels.LegacyCommit, out var l) && l == "true");
        string? Label(params string[] keys) => keys.Select(k => labels.TryGetValue(k, out var v) && !string.IsNullOrEmpty(v) ? v : null).FirstOrDefault(v => v is not null);
        return new Ds01Image
        {
            Repository = repository,
            Tag = tag,
            Name = reference,
            Project = own?.Project ?? Label(Labels.Project),
            Uid = OwnerUid(reference),
            Id = id,
            SizeBytes = size,
            CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(created, created.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : created.Kind)).ToUniversalTime(),
            BaseImage = Label(Labels.BaseImage),
            Framework = Label(Labels.Framework, Labels.AimeFramework),
            HasUserSetup = UserSetupPath.HasUserSetup(labels),
            UserId = UserSetupPath.LabelInt(labels, Labels.ImageUserId) ?? (legacy ? UserSetupPath.LabelInt(labels, Labels.UserId) : null),
            GroupId = UserSetupPath.LabelInt(labels, Labels.ImageGroupId) ?? (legacy ? UserSetupPath.LabelInt(labels, Labels.GroupId) : null),
            Username = Label(Labels.ImageUsername, legacy ? Labels.Username : Labels.ImageUsername),
            InUseBy = string.Join(",", containers.Where(c => c.ImageID == id).Select(ContainerName).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal)),
            IsLegacyCommit = legacy,
        };
    }

    private void Log(string type, UserIdentity owner, IReadOnlyDictionary<string, object?> details) =>
        _session.Recorder.Record(type, owner, details);

    // Synchronous: Progress<T> would post to the thread pool and could report after the build returned.
    private sealed class SyncProgress<T> : IProgress<T>
    {
        private readonly Action<T> _report;
        public SyncProgress(Action<T> report) => _report = report;
        public void Report(T value) => _report(value);
    }
}

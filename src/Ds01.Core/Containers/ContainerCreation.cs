using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Ds01.Core.Naming;

namespace Ds01.Core.Containers;

/// <summary>A create that passed every check that needs no lock; <see cref="ContainerCreation.CommitAsync"/> finishes it.</summary>
public sealed class PreparedCreate
{
    internal PreparedCreate(ContainerCreateRequest request, UserIdentity owner, Ds01ResourceLimit limits, CreateSpec spec,
        CreateContainerParameters parameters, GpuPlacementRequest? gpu, CreateSource source, bool createdWorkspace)
    {
        Request = request;
        Owner = owner;
        Limits = limits;
        Spec = spec;
        Parameters = parameters;
        Gpu = gpu;
        Source = source;
        CreatedWorkspace = createdWorkspace;
    }

    public ContainerCreateRequest Request { get; }
    public UserIdentity Owner { get; }
    public Ds01ResourceLimit Limits { get; }
    public CreateSpec Spec { get; }
    /// <summary>What Docker will be sent; the placement adds the GPU labels, env and devices under the lock.</summary>
    public CreateContainerParameters Parameters { get; }
    /// <summary>The GPU part of the request; null for a CPU-only container.</summary>
    public GpuPlacementRequest? Gpu { get; }
    public CreateSource Source { get; }
    internal bool CreatedWorkspace { get; }
}

/// <summary>
/// The create transaction, the riskiest logic in Ds01 (a GPU must never be double-booked), in one place:
/// validate, check names, quota and max_containers early (so bad input changes nothing), prepare the image
/// (fast path or AIME's legacy commit), then inside the placement's allocation lock re-check max_containers,
/// attach the chosen slots and create; on any failure roll back what this create made (the legacy commit, an
/// empty workspace). The placement is injected, so a host that admits creates (the ds01d service) runs the
/// same steps under its own placement. Entry points: <see cref="RunAsync"/>, or
/// <see cref="PrepareAsync"/> then <see cref="CommitAsync"/>.
/// </summary>
public sealed class ContainerCreation
{
    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;
    private readonly IGpuPlacement _placement;

    public ContainerCreation(Ds01Session session, IContainerEngine docker, IGpuPlacement placement)
    {
        _session = session;
        _docker = docker;
        _placement = placement;
    }

    private IFeedbackSink Feedback => _session.Feedback;

    public async Task<Ds01Container> RunAsync(ContainerCreateRequest request, UserIdentity owner, CancellationToken ct)
    {
        var prepared = await PrepareAsync(request, owner, ct).ConfigureAwait(false);
        return await CommitAsync(prepared, ct).ConfigureAwait(false);
    }

    /// <summary>Every check that needs no lock, and the slow work (image preparation); nothing that holds a GPU.</summary>
    public async Task<PreparedCreate> PrepareAsync(ContainerCreateRequest request, UserIdentity owner, CancellationToken ct)
    {
        ContainerNaming.ValidateName(request.Name);
        var project = request.Project ?? request.Name.ToLowerInvariant();
        ContainerNaming.ValidateProject(project);
        if (request.Gpu is not null && request.GpuCount != 1)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "GpuSlotWithCount",
                $"-Gpu {request.Gpu} names one slot, but -GpuCount is {request.GpuCount}.", request.Gpu,
                "Leave out -GpuCount when you name a slot with -Gpu.");
        if (request.GpuCount < 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuCount", "-GpuCount cannot be negative.", request.GpuCount,
                "Use 0 for a CPU-only container.");
        var config = _session.Config.ResourceLimits;
        var limits = LimitResolver.Resolve(config, owner.Name, owner.Groups);
        var tag = ContainerNaming.Tag(request.Name, owner.Uid);

        var mine = await CountAsync(owner, ct).ConfigureAwait(false);
        if (await _docker.InspectContainerAsync(tag, ct).ConfigureAwait(false) is not null)
            throw Exists(request.Name);
        // Fails fast here; the check under the lock in CommitAsync is the one that binds.
        CheckNameFree(mine, tag, request.Name);
        CheckContainerLimit(mine.Count, limits, request.Name);

        var image = request.Image ?? ContainerNaming.ImageName(owner.Uid, project);
        var imageInfo = await _docker.InspectImageAsync(image, ct).ConfigureAwait(false)
            ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "ImageNotFound", $"The image '{image}' does not exist on this server.", image,
                request.Image is null ? $"Build it first with Build-Ds01Image -Project {project} (image-create), or pass -Image." : "Check the name with Get-Ds01Image -All.");
        ImageService.DemandImageAccess(_session, image, imageInfo, owner);
        LabelPolicy.RefuseHoldingLabels(imageInfo.Config?.Labels, image);

        var mounts = new MountPolicy(config);
        var workspace = request.Workspace is null ? mounts.DefaultWorkspace(owner, project) : mounts.Check(request.Workspace, owner, "workspace");
        if (request.Workspace is null) mounts.Check(workspace, owner, "workspace");
        var data = request.DataPath is null ? null : mounts.Check(request.DataPath, owner, "data path");
        if (data is not null && !Directory.Exists(data))
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "DataPathNotFound", $"The data path '{data}' does not exist.", data, "Create it or fix the path.");

        GpuPlacementRequest? gpu = null;
        if (request.GpuCount > 0 || request.Gpu is not null)
        {
            gpu = new GpuPlacementRequest(owner, limits, tag, Math.Max(1, request.GpuCount), request.Gpu, request.Wait, request.WaitTimeout);
            // Fail fast on quota or a busy GPU before the slow legacy commit; the binding decision is made under the lock.
            await _placement.PrecheckAsync(gpu, ct).ConfigureAwait(false);
        }

        // The image itself when its user setup matches the owner (fast path), else AIME's run + commit (UserSetupPath).
        // Shown as progress: the legacy path runs a container and commits it, which takes a while on a large image.
        _session.Activity.Set("Preparing the image", $"{image}: checking its user setup (a mismatch runs AIME's legacy run + commit)", _session.Clock);
        CreateSource source;
        try { source = await new UserSetupPath(_docker).PrepareAsync(imageInfo, image, tag, owner, ct).ConfigureAwait(false); }
        finally { _session.Activity.Clear(); }
        foreach (var n in source.Notes) Feedback.Note(n);
        foreach (var w in source.Warnings) Feedback.Warn(w);
        var spec = new CreateSpec(request.Name, tag, project, source.Image, image, owner, limits, workspace, data, request.Interface,
            config.Ulimits, _session.Clock.GetUtcNow());
        var parameters = CreateParametersConverter.Convert(spec);
        var sourceLabels = source.Image == image ? imageInfo.Config?.Labels
            : (await _docker.InspectImageAsync(source.Image, ct).ConfigureAwait(false))?.Config?.Labels;
        LabelPolicy.ClearInherited(parameters.Labels, sourceLabels);
        var createdWorkspace = false;
        try
        {
            var info = await _docker.GetSystemInfoAsync(ct).ConfigureAwait(false);
            foreach (var n in CreateParametersConverter.FitToHost(parameters, info, limits, owner)) Feedback.Note(n);
            createdWorkspace = EnsureWorkspace(workspace, owner);
        }
        catch (Exception)
        {
            await RollBackAsync(source, workspace, createdWorkspace).ConfigureAwait(false);
            throw;
        }
        return new PreparedCreate(request, owner, limits, spec, parameters, gpu, source, createdWorkspace);
    }

    /// <summary>
    /// The part under the allocation lock: the placement chooses slots (or none) and, still holding the lock,
    /// max_containers is counted again and the container is created. Any failure rolls back what PrepareAsync made.
    /// </summary>
    public async Task<Ds01Container> CommitAsync(PreparedCreate prepared, CancellationToken ct)
    {
        var owner = prepared.Owner;
        var parameters = prepared.Parameters;
        GpuAssignment? gpu = null;
        string id;
        try
        {
            id = await _placement.PlaceAsync(prepared.Gpu, async assignment =>
            {
                gpu = assignment;
                // The early checks only fail fast; these, under the lock, are the ones that bind: two racing creates of
                // "thesis" and "Thesis" (or past max_containers) cannot both pass.
                var mine = await CountAsync(owner, ct).ConfigureAwait(false);
                CheckNameFree(mine, prepared.Spec.Tag, prepared.Request.Name);
                CheckContainerLimit(mine.Count, prepared.Limits, prepared.Request.Name);
                if (assignment is not null) _placement.Apply(assignment, parameters);
                // The image's own NVIDIA_VISIBLE_DEVICES (CUDA images set "all") would hand a CPU-only container every GPU.
                else parameters.Env.Add("NVIDIA_VISIBLE_DEVICES=void");
                // Not cancellable: once dockerd has the request, a cancelled wait would leave a container we report as failed.
                return await _docker.CreateContainerAsync(parameters, CancellationToken.None).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
        }
        catch (Exception)
        {
            await RollBackAsync(prepared.Source, prepared.Spec.Workspace, prepared.CreatedWorkspace).ConfigureAwait(false);
            throw;
        }

        _session.Recorder.Record("container.create", owner, new Dictionary<string, object?>
        {
            ["container"] = prepared.Spec.Tag, ["image"] = prepared.Spec.RequestedImage, ["legacy_image"] = prepared.Source.LegacyImage,
            ["gpu"] = gpu is null ? null : string.Join(",", gpu.Slots),
            ["cpu_limit"] = prepared.Limits.CpuLimit, ["memory_limit"] = prepared.Limits.MemoryLimitBytes,
        });
        // The container exists and the event is written: a cancelled read-back must not turn this into a failure.
        var created = await _docker.InspectContainerAsync(id, CancellationToken.None).ConfigureAwait(false)
            ?? throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerVanished", $"Container '{prepared.Spec.Tag}' disappeared right after create.", prepared.Spec.Tag);
        return ContainerMapper.FromInspect(created, _session.Clock.GetUtcNow());
    }

    /// <summary>A failed create leaves nothing behind: not the legacy commit, not an empty workspace it made.</summary>
    private async Task RollBackAsync(CreateSource source, string workspace, bool createdWorkspace)
    {
        if (source.LegacyImage is not null)
        {
            try { await _docker.RemoveImageAsync(source.LegacyImage, force: false, CancellationToken.None).ConfigureAwait(false); }
            catch (Ds01Exception e) when (e.Kind is Ds01ErrorKind.AlreadyExists or Ds01ErrorKind.InvalidOperation or Ds01ErrorKind.NotFound)
            { /* in use by another container of the same tag, or gone already: keep the original error */ }
            catch (Ds01Exception e) { Feedback.Warn($"Could not remove the legacy image '{source.LegacyImage}' after the failed create: {e.Message}"); }
        }
        try
        {
            if (createdWorkspace && Directory.Exists(workspace) && !Directory.EnumerateFileSystemEntries(workspace).Any())
                Directory.Delete(workspace);
        }
        catch (IOException) { /* keep the original error; an empty directory is harmless */ }
        catch (UnauthorizedAccessException) { }
    }

    private async Task<(int Count, HashSet<string> Tags, IReadOnlyList<string> Names)> CountAsync(UserIdentity owner, CancellationToken ct)
    {
        var all = await _docker.ListContainersAsync(new Dictionary<string, bool> { [Labels.Aime] = true }, ct).ConfigureAwait(false);
        var now = _session.Clock.GetUtcNow();
        var mine = all.Select(c => ContainerMapper.FromList(c, now)).Where(c => ContainerService.OwnedBy(c, owner)).ToList();
        return (mine.Count, mine.Select(c => c.Tag).ToHashSet(StringComparer.Ordinal), mine.Select(c => c.Name).ToList());
    }

    private static Ds01Exception Exists(string name) => new(Ds01ErrorKind.AlreadyExists, "ContainerExists", $"A container named '{name}' already exists.", name,
        "Pick another name, or remove the old one with Remove-Ds01Container.");

    /// <summary>
    /// The name is not taken, not even in another case: "thesis" and "Thesis" would be two containers sharing one
    /// workspace (the project is the lowercased name), and a name typed in the wrong case would act on the other one.
    /// </summary>
    private static void CheckNameFree((int Count, HashSet<string> Tags, IReadOnlyList<string> Names) mine, string tag, string name)
    {
        if (mine.Tags.Contains(tag)) throw Exists(name);
        if (mine.Names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) is { } twin)
            throw new Ds01Exception(Ds01ErrorKind.AlreadyExists, "ContainerNameDiffersInCase",
                $"You already have a container named '{twin}', which differs from '{name}' only in case.", name,
                $"Use '{twin}' itself, or a name that differs by more than case.");
    }

    private static void CheckContainerLimit(int count, Ds01ResourceLimit limits, string name)
    {
        if (limits.MaxContainers is { } max && count >= max)
            throw new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "ContainerLimitReached",
                $"You have {count} containers; your limit is {max}.", name,
                "Remove a container you no longer need (Get-Ds01Container -State Stopped | Remove-Ds01Container).");
    }

    /// <summary>Creates the workspace owned by the user; true when it did not exist before.</summary>
    /// <summary>Creates the workspace folder when missing (as the owner's, never following their links); true when it made it.</summary>
    public bool EnsureWorkspace(string workspace, UserIdentity owner)
    {
        if (Directory.Exists(workspace)) return false;
        if (UserTree.ActingForOther(_session.Caller, owner))
        {
            // An admin creating a user's workspace never follows the user's links on the way.
            UserTree.CreateDirectory(workspace, owner, chown: _session.Caller.Uid == 0 && owner.Uid != 0);
            Feedback.Note($"Created workspace {workspace}.");
            return true;
        }
        // Every directory made here belongs to the user (a root-owned ~/workspace would block their own creates).
        var missing = new Stack<string>();
        for (var d = workspace; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Push(d);
        Directory.CreateDirectory(workspace);
        if (_session.Caller.Uid == 0 && owner.Uid != 0)
            foreach (var dir in missing) Posix.Lchown(dir, owner.Uid, owner.Gid);
        Feedback.Note($"Created workspace {workspace}.");
        return true;
    }
}

using System.Globalization;
using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Ds01.Core.Naming;

namespace Ds01.Core.Containers;

/// <summary>
/// Container use-cases: create with limits fixed at create time, lifecycle with ownership checks, listing
/// with one Docker call, stats and exec. Every change is written to the event log.
/// </summary>
public sealed class ContainerService
{
    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;
    private readonly IGpuPlacement? _gpu;

    public ContainerService(Ds01Session session, IContainerEngine docker, IGpuPlacement? gpu = null)
    {
        _session = session;
        _docker = docker;
        _gpu = gpu;
    }

    private DateTimeOffset Now => _session.Clock.GetUtcNow();

    // ---------- listing ----------

    /// <summary>Every container AIME or Ds01 made (label aime.mlc), in one list call.</summary>
    public async Task<IReadOnlyList<Ds01Container>> ListAllAsync(CancellationToken ct)
    {
        var raw = await _docker.ListContainersAsync(new Dictionary<string, bool> { [Labels.Aime] = true }, ct).ConfigureAwait(false);
        var now = Now;
        return raw.Select(c => ContainerMapper.FromList(c, now)).ToList();
    }

    public static bool OwnedBy(Ds01Container c, UserIdentity user) =>
        c.Uid is { } uid ? uid == user.Uid : c.User == user.Name;

    public async Task<IReadOnlyList<Ds01Container>> ListAsync(UserIdentity? owner, CancellationToken ct)
    {
        var all = await ListAllAsync(ct).ConfigureAwait(false);
        return owner is null ? all : all.Where(c => OwnedBy(c, owner)).ToList();
    }

    // ---------- resolution ----------

    /// <summary>Finds owner's container by the name the user types; AIME's bare-name fallback only for their own.</summary>
    public async Task<ContainerInspectResponse> ResolveAsync(string name, UserIdentity owner, CancellationToken ct)
    {
        var tag = ContainerNaming.IsValidName(name) ? ContainerNaming.Tag(name, owner.Uid) : name;
        var c = await _docker.InspectContainerAsync(tag, ct).ConfigureAwait(false);
        if (c is null && ContainerNaming.IsValidName(name))
        {
            var bare = await _docker.InspectContainerAsync(name, ct).ConfigureAwait(false);
            if (bare is not null && Labels.Owner(bare.Config?.Labels) == owner.Name) c = bare;
        }
        if (c is null || !IsOwnedOrAimeVisible(c, owner))
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "ContainerNotFound",
                $"{(owner.Uid == _session.Caller.Uid ? "You have" : $"User '{owner.Name}' has")} no container named '{name}'.", name,
                "Get-Ds01Container lists the containers you can use.");
        _session.Access.DemandOwnerOrAdmin(Labels.Owner(c.Config?.Labels) ?? owner.Name, ContainerNaming.ParseTag(c.Name).Uid, $"Container '{name}'");
        return c;
    }

    private static bool IsOwnedOrAimeVisible(ContainerInspectResponse c, UserIdentity owner)
    {
        var uid = ContainerNaming.ParseTag(c.Name).Uid;
        return uid is { } u ? u == owner.Uid : Labels.Owner(c.Config?.Labels) == owner.Name;
    }

    // ---------- create ----------

    public async Task<ContainerCreateResult> CreateAsync(ContainerCreateRequest request, UserIdentity owner, CancellationToken ct)
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
        var notes = new List<string>();
        var tag = ContainerNaming.Tag(request.Name, owner.Uid);

        // Cheap checks first, so bad input changes nothing.
        var mine = await ListAsync(owner, ct).ConfigureAwait(false);
        if (mine.Any(c => c.Tag == tag) || await _docker.InspectContainerAsync(tag, ct).ConfigureAwait(false) is not null)
            throw new Ds01Exception(Ds01ErrorKind.AlreadyExists, "ContainerExists", $"A container named '{request.Name}' already exists.", request.Name,
                "Pick another name, or remove the old one with Remove-Ds01Container.");
        // "thesis" and "Thesis" would be two containers sharing one workspace (the project is the lowercased name),
        // and a name typed in the wrong case would act on the other one.
        if (mine.FirstOrDefault(c => string.Equals(c.Name, request.Name, StringComparison.OrdinalIgnoreCase)) is { } twin)
            throw new Ds01Exception(Ds01ErrorKind.AlreadyExists, "ContainerNameDiffersInCase",
                $"You already have a container named '{twin.Name}', which differs from '{request.Name}' only in case.", request.Name,
                $"Use '{twin.Name}' itself, or a name that differs by more than case.");
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

        GpuPlacementRequest? gpuRequest = null;
        if (request.GpuCount > 0 || request.Gpu is not null)
        {
            if (_gpu is null)
                throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "GpuSupportUnavailable", "GPU allocation is not available.", request.Name,
                    "Use -GpuCount 0 for a CPU-only container.");
            gpuRequest = new GpuPlacementRequest(owner, limits, tag, Math.Max(1, request.GpuCount), request.Gpu, request.Wait, request.WaitTimeout);
            // Fail fast on quota or a busy GPU before the slow legacy commit; the binding decision is made under the lock.
            await _gpu.PrecheckAsync(gpuRequest, ct).ConfigureAwait(false);
        }

        // SPEC 3.6: the image itself when its user setup matches the owner (fast path), else a legacy run + commit.
        var source = await new UserSetupPath(_docker).PrepareAsync(imageInfo, image, tag, owner, ct).ConfigureAwait(false);
        notes.AddRange(source.Notes);
        Warnings.AddRange(source.Warnings);
        var parameters = BuildCreateParameters(request.Name, tag, project, source.Image, owner, limits, workspace, data, request.Interface, config.Ulimits);
        var sourceLabels = source.Image == image ? imageInfo.Config?.Labels
            : (await _docker.InspectImageAsync(source.Image, ct).ConfigureAwait(false))?.Config?.Labels;
        LabelPolicy.ClearInherited(parameters.Labels, sourceLabels);
        string id;
        GpuAssignment? gpu = null;
        var createdWorkspace = false;
        try
        {
            await ApplyHostAsync(parameters, limits, owner, notes, ct).ConfigureAwait(false);
            createdWorkspace = EnsureWorkspace(workspace, owner, notes);
            if (gpuRequest is not null)
            {
                id = await _gpu!.AllocateAsync(gpuRequest, async assignment =>
                {
                    gpu = assignment;
                    await RecheckContainerLimitAsync(owner, limits, request.Name, ct).ConfigureAwait(false);
                    _gpu.Apply(assignment, parameters);
                    // Not cancellable: once dockerd has the request, a cancelled wait would leave a container we report as failed.
                    return await _docker.CreateContainerAsync(parameters, CancellationToken.None).ConfigureAwait(false);
                }, ct).ConfigureAwait(false);
            }
            else
            {
                parameters.Labels[Labels.AimeGpus] = "0";
                // The image's own NVIDIA_VISIBLE_DEVICES (CUDA images set "all") would hand a CPU-only container every GPU.
                parameters.Env.Add("NVIDIA_VISIBLE_DEVICES=void");
                // The same lock as GPU creates, so two parallel creates cannot both pass max_containers.
                using (Gpu.AllocationLock.Acquire(_session.Paths.AllocationLockFile, Gpu.GpuConfig.Load(_session.Paths.ConfigDir).LockTimeout))
                {
                    await RecheckContainerLimitAsync(owner, limits, request.Name, ct).ConfigureAwait(false);
                    id = await _docker.CreateContainerAsync(parameters, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception)
        {
            // A failed create leaves nothing behind: not the legacy commit, not an empty workspace we made.
            if (source.LegacyImage is not null)
            {
                try { await _docker.RemoveImageAsync(source.LegacyImage, force: false, CancellationToken.None).ConfigureAwait(false); }
                catch (Ds01Exception) { /* in use by another container of the same tag: keep */ }
            }
            try
            {
                if (createdWorkspace && Directory.Exists(workspace) && !Directory.EnumerateFileSystemEntries(workspace).Any())
                    Directory.Delete(workspace);
            }
            catch (IOException) { /* keep the original error; an empty directory is harmless */ }
            catch (UnauthorizedAccessException) { }
            throw;
        }

        Log("container.create", owner, new Dictionary<string, object?>
        {
            ["container"] = tag, ["image"] = image, ["legacy_image"] = source.LegacyImage, ["gpu"] = gpu is null ? null : string.Join(",", gpu.Slots),
            ["cpu_limit"] = limits.CpuLimit, ["memory_limit"] = limits.MemoryLimitBytes,
        }, notes);
        var created = await _docker.InspectContainerAsync(id, ct).ConfigureAwait(false)
            ?? throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerVanished", $"Container '{tag}' disappeared right after create.", tag);
        return new ContainerCreateResult(ContainerMapper.FromInspect(created, Now), notes);
    }

    internal CreateContainerParameters BuildCreateParameters(string name, string tag, string project, string image, UserIdentity owner,
        Ds01ResourceLimit limits, string workspace, string? data, string iface, IReadOnlyDictionary<string, long> ulimits)
    {
        var labels = new Dictionary<string, string>
        {
            [Labels.Aime] = owner.Name,
            [Labels.AimeName] = name,
            [Labels.AimeUser] = owner.Name,
            [Labels.AimeVersion] = "3",
            [Labels.AimeFramework] = "custom",
            [Labels.AimeWorkMount] = workspace,
            [Labels.AimeDataMount] = data ?? "",
            [Labels.AimeDs01Managed] = "true",
            [Labels.AimeCustomImage] = image,
            [Labels.Managed] = "true",
            [Labels.User] = owner.Name,
            [Labels.UserId] = owner.Uid.ToString(CultureInfo.InvariantCulture),
            [Labels.GroupId] = owner.Gid.ToString(CultureInfo.InvariantCulture),
            [Labels.Username] = owner.SanitizedName,
            [Labels.Name] = name,
            [Labels.Project] = project,
            [Labels.Group] = limits.Group ?? "",
            [Labels.CreatedAt] = Now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            [Labels.Interface] = iface,
            [Labels.CustomImage] = image,
            [Labels.WorkMount] = workspace,
        };
        if (data is not null) labels[Labels.DataMount] = data;

        var binds = new List<string> { $"{workspace}:/workspace" };
        if (data is not null) binds.Add($"{data}:/data");
        var host = new HostConfig
        {
            Binds = binds,
            Init = true,
            Privileged = false, // never: it breaks MIG isolation and hands out the host
            // Without sudo nothing inside may gain privileges (setuid programs included), so root inside, and with it a
            // setuid-root file left in the workspace for the host, cannot happen.
            SecurityOpt = limits.AllowSudo ? new List<string>() : new List<string> { "no-new-privileges" },
            Ulimits = ulimits.Select(u => new Ulimit { Name = u.Key, Soft = u.Value, Hard = u.Value }).ToList(),
        };
        if (limits.CpuLimit is { } cpu) host.NanoCPUs = (long)Math.Round(cpu * 1e9);
        if (limits.MemoryLimitBytes is { } mem) { host.Memory = mem; host.MemorySwap = mem; }
        if (limits.ShmSizeBytes is { } shm) host.ShmSize = shm;
        if (limits.PidsLimit is { } pids) host.PidsLimit = pids;

        return new CreateContainerParameters
        {
            Name = tag,
            Image = image,
            // AIME's -it: a TTY and open stdin keep the image's default shell alive.
            Tty = true,
            OpenStdin = true,
            User = $"{owner.Uid}:{owner.Gid}",
            WorkingDir = "/workspace",
            Labels = labels,
            Env = new List<string> { $"DS01_CONTAINER={name}", $"DS01_USER={owner.Name}" },
            HostConfig = host,
        };
    }

    private async Task ApplyHostAsync(CreateContainerParameters p, Ds01ResourceLimit limits, UserIdentity owner, List<string> notes, CancellationToken ct)
    {
        var info = await _docker.GetSystemInfoAsync(ct).ConfigureAwait(false);
        // Docker refuses --cpus above the host's CPU count; a limit written for a bigger server means "all of them".
        if (info.NCPU > 0 && p.HostConfig.NanoCPUs > info.NCPU * 1_000_000_000L)
        {
            notes.Add($"cpu_limit {p.HostConfig.NanoCPUs / 1e9:0.##} is more than this host's {info.NCPU} CPUs; using {info.NCPU}.");
            p.HostConfig.NanoCPUs = info.NCPU * 1_000_000_000L;
        }
        if (!string.Equals(info.CgroupDriver, "systemd", StringComparison.OrdinalIgnoreCase))
        {
            notes.Add($"No cgroup slice: Docker's cgroup driver is '{info.CgroupDriver}', not systemd; limits still apply per container.");
            return;
        }
        // '-' nests in systemd slice names, so the user part uses '_' to stay one level below the group.
        var group = (limits.Group ?? "default").Replace('-', '_');
        var slice = $"ds01-{group}-{owner.SanitizedName.Replace('-', '_')}.slice";
        p.HostConfig.CgroupParent = slice;
        p.Labels[Labels.Slice] = slice;
        notes.Add($"Cgroup parent {slice}.");
    }

    private static void CheckContainerLimit(int count, Ds01ResourceLimit limits, string name)
    {
        if (limits.MaxContainers is { } max && count >= max)
            throw new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "ContainerLimitReached",
                $"You have {count} containers; your limit is {max}.", name,
                "Remove a container you no longer need (Get-Ds01Container -State Stopped | Remove-Ds01Container).");
    }

    /// <summary>Counted again under the allocation lock: the early check is only there to fail fast.</summary>
    private async Task RecheckContainerLimitAsync(UserIdentity owner, Ds01ResourceLimit limits, string name, CancellationToken ct)
    {
        if (limits.MaxContainers is null) return;
        CheckContainerLimit((await ListAsync(owner, ct).ConfigureAwait(false)).Count, limits, name);
    }

    /// <summary>Creates the workspace owned by the user; true when it did not exist before.</summary>
    private bool EnsureWorkspace(string workspace, UserIdentity owner, List<string> notes)
    {
        if (Directory.Exists(workspace)) return false;
        if (UserTree.ActingForOther(_session.Caller, owner))
        {
            // An admin creating a user's workspace never follows the user's links on the way.
            UserTree.CreateDirectory(workspace, owner, chown: _session.Caller.Uid == 0 && owner.Uid != 0);
            notes.Add($"Created workspace {workspace}.");
            return true;
        }
        // Every directory made here belongs to the user (a root-owned ~/workspace would block their own creates).
        var missing = new Stack<string>();
        for (var d = workspace; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Push(d);
        Directory.CreateDirectory(workspace);
        if (_session.Caller.Uid == 0 && owner.Uid != 0)
            foreach (var dir in missing) Posix.Lchown(dir, owner.Uid, owner.Gid);
        notes.Add($"Created workspace {workspace}.");
        return true;
    }

    // ---------- lifecycle ----------

    public async Task<Ds01Container> StartAsync(string name, UserIdentity owner, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State.Paused)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerPaused", $"Container '{name}' is paused.", name, "Use Resume-Ds01Container.");
        if (!c.State.Running)
        {
            CheckMountsStillAllowed(c, owner);
            if (_gpu is not null) await _gpu.StartAsync(c, () => _docker.StartContainerAsync(c.ID, ct), ct).ConfigureAwait(false);
            else await _docker.StartContainerAsync(c.ID, ct).ConfigureAwait(false);
            Log("container.start", owner, Detail(c));
        }
        return await ReadAsync(c.ID, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Docker follows symlinks in bind sources at every start, so a workspace swapped for a link after create
    /// (ln -s /etc ~/workspace/p) would reach outside the allowed roots: check again before each start.
    /// </summary>
    private void CheckMountsStillAllowed(ContainerInspectResponse c, UserIdentity owner)
    {
        if (c.Config?.Labels is not { } labels || !labels.TryGetValue(Labels.Managed, out var managed) || managed != "true") return;
        var mounts = new MountPolicy(_session.Config.ResourceLimits);
        foreach (var source in (c.HostConfig?.Binds ?? new List<string>()).Select(b => b.Split(':')[0]))
        {
            if (source.StartsWith("/", StringComparison.Ordinal)) mounts.Check(source, owner, $"mount '{source}' of '{ContainerNaming.ParseTag(c.Name).Name}'");
        }
    }

    public async Task<Ds01Container> StopAsync(string name, UserIdentity owner, int timeoutSeconds, bool kill, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State.Running || c.State.Paused)
        {
            if (kill) await _docker.KillContainerAsync(c.ID, ct).ConfigureAwait(false);
            else await _docker.StopContainerAsync(c.ID, timeoutSeconds, ct).ConfigureAwait(false);
            var d = Detail(c);
            d["method"] = kill ? "kill" : "stop";
            Log("container.stop", owner, d);
        }
        return await ReadAsync(c.ID, ct).ConfigureAwait(false);
    }

    public async Task<Ds01Container> PauseAsync(string name, UserIdentity owner, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (!c.State.Running || c.State.Paused)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerNotRunning",
                $"Container '{name}' is {(c.State.Paused ? "already paused" : "not running")}.", name,
                c.State.Paused ? "Resume it with Resume-Ds01Container." : "Start it with Start-Ds01Container first.");
        await _docker.PauseContainerAsync(c.ID, ct).ConfigureAwait(false);
        Log("container.pause", owner, Detail(c));
        return await ReadAsync(c.ID, ct).ConfigureAwait(false);
    }

    public async Task<Ds01Container> ResumeAsync(string name, UserIdentity owner, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (!c.State.Paused)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerNotPaused", $"Container '{name}' is not paused.", name,
                "Only a paused container can be resumed; Start-Ds01Container starts a stopped one.");
        await _docker.UnpauseContainerAsync(c.ID, ct).ConfigureAwait(false);
        Log("container.unpause", owner, Detail(c));
        return await ReadAsync(c.ID, ct).ConfigureAwait(false);
    }

    /// <summary>Removes the container (and AIME's per-container committed image); the workspace stays on the host.</summary>
    public async Task RemoveAsync(string name, UserIdentity owner, bool stopFirst, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State.Running || c.State.Paused)
        {
            if (!stopFirst)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerRunning",
                    $"Container '{name}' is {(c.State.Paused ? "paused" : "running")}; it was not removed.", name,
                    "Stop it first, or pass -Stop to stop and remove it in one step.");
            await _docker.StopContainerAsync(c.ID, 10, ct).ConfigureAwait(false);
            Log("container.stop", owner, Detail(c));
        }
        await _docker.RemoveContainerAsync(c.ID, force: false, ct).ConfigureAwait(false);
        var d = Detail(c);
        Log("container.remove", owner, d);
        if (d["gpu"] is string slots && slots.Length > 0)
            Log("gpu.release", owner, new Dictionary<string, object?> { ["container"] = c.Name.TrimStart('/'), ["slots"] = slots, ["reason"] = "remove" });
        // AIME's legacy path commits one image per container, tagged with the container tag.
        var image = c.Config?.Image ?? "";
        if (image.EndsWith(":" + c.Name.TrimStart('/'), StringComparison.Ordinal))
        {
            try { await _docker.RemoveImageAsync(image, force: false, ct).ConfigureAwait(false); }
            catch (Ds01Exception) { /* still used by another container: keep it */ }
        }
    }

    public async Task<Ds01Container> ReadAsync(string id, CancellationToken ct)
    {
        var c = await _docker.InspectContainerAsync(id, ct).ConfigureAwait(false)
            ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "ContainerNotFound", $"Container '{id}' no longer exists.", id);
        return ContainerMapper.FromInspect(c, Now);
    }

    // ---------- stats and exec ----------

    public async Task<Ds01ContainerStats> StatsAsync(Ds01Container c, CancellationToken ct)
    {
        if (c.State != ContainerState.Running)
            return new Ds01ContainerStats { Name = c.Name, User = c.User, State = c.State, Gpu = c.Gpu };
        var s = await _docker.GetStatsAsync(c.Id, TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
        return StatsCalculator.From(c, s);
    }

    /// <summary>Stats of the owner's matching containers (running only unless includeStopped), sampled in parallel:
    /// Docker takes about a second per sample.</summary>
    public async Task<IReadOnlyList<Ds01ContainerStats>> StatsForAsync(UserIdentity owner, bool includeStopped, Func<string, bool> nameMatches,
        CancellationToken ct)
    {
        var mine = (await ListAsync(owner, ct).ConfigureAwait(false))
            .Where(c => includeStopped || c.State == ContainerState.Running)
            .Where(c => nameMatches(c.Name))
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        return await Task.WhenAll(mine.Select(c => StatsAsync(c, ct))).ConfigureAwait(false);
    }

    public async Task<ExecResult> ExecAsync(string name, UserIdentity owner, IList<string> command, CancellationToken ct)
    {
        if (command.Count == 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "EmptyCommand", "No command was given.", name, "Pass -Command with the program and its arguments.");
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (!c.State.Running || c.State.Paused)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerNotRunning", $"Container '{name}' is not running.", name,
                "Start it with Start-Ds01Container first.");
        return await _docker.ExecAsync(c.ID, command, null, ct).ConfigureAwait(false);
    }

    // ---------- events ----------

    private static Dictionary<string, object?> Detail(ContainerInspectResponse c)
    {
        var labels = c.Config?.Labels;
        string? slots = null;
        labels?.TryGetValue(Labels.GpuSlots, out slots);
        return new Dictionary<string, object?> { ["container"] = c.Name.TrimStart('/'), ["gpu"] = slots ?? "" };
    }

    public List<string> Warnings { get; } = new();

    private void Log(string type, UserIdentity owner, IReadOnlyDictionary<string, object?> details, List<string>? notes = null)
    {
        var d = new Dictionary<string, object?>(details);
        if (_session.Caller.Uid != owner.Uid) d["by"] = _session.Caller.Name;
        var problem = _session.Events.Write(type, owner.Name, d);
        if (problem is not null) Warnings.Add(problem);
    }
}

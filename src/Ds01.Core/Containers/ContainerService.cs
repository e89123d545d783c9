using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Ds01.Core.Naming;

namespace Ds01.Core.Containers;

/// <summary>
/// Container use-cases after create (which is <see cref="ContainerCreation"/>): resolve, lifecycle with ownership
/// checks, listing with one Docker call, stats and exec. Every change is recorded as an event.
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

    /// <summary>The Docker endpoint this service acts through (an interactive shell must go to the same one); null for other engines.</summary>
    public string? Endpoint => (_docker as DockerEngine)?.Endpoint;

    // ---------- listing ----------

    /// <summary>
    /// Every container AIME or Ds01 made (label aime.mlc), in one list call; stopped containers with GPU slots are
    /// inspected too (few), so their stop time and the end of their GPU hold are Docker's exact FinishedAt.
    /// </summary>
    public async Task<IReadOnlyList<Ds01Container>> ListAllAsync(CancellationToken ct)
    {
        if (_session.Config.Cluster.IsSlurm && _docker is DockerEngine local)
            return await Cluster.ClusterJobs.ListAllAsync(_session, local.Endpoint, ListHereAsync, ct).ConfigureAwait(false);
        return await ListHereAsync(ct).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<Ds01Container>> ListHereAsync(CancellationToken ct)
    {
        var raw = await _docker.ListContainersAsync(new Dictionary<string, bool> { [Labels.Aime] = true }, ct).ConfigureAwait(false);
        var now = Now;
        var listed = raw.Select(c => ContainerMapper.FromList(c, now)).ToList();
        return await Task.WhenAll(listed.Select(async c =>
        {
            if (c.State != ContainerState.Stopped || c.Gpu.Length == 0) return c;
            var exact = await _docker.InspectContainerAsync(c.Id, ct).ConfigureAwait(false);
            return exact is null ? c : ContainerMapper.FromInspect(exact, now);
        })).ConfigureAwait(false);
    }

    /// <summary>The containers Get-Ds01Container shows: the owner's (everyone's when null), in the given states, by name.</summary>
    public static IReadOnlyList<Ds01Container> Select(IEnumerable<Ds01Container> all, UserIdentity? owner, IReadOnlyCollection<ContainerState>? states) =>
        all.Where(c => owner is null || OwnedBy(c, owner))
            .Where(c => states is null || states.Contains(c.State))
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();

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

    // ---------- lifecycle ----------

    public async Task<Ds01Container> StartAsync(string name, UserIdentity owner, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State?.Paused == true)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerPaused", $"Container '{name}' is paused.", name, "Use Resume-Ds01Container.");
        if (c.State?.Running != true)
        {
            CheckMountsStillAllowed(c, owner);
            if (Cluster.ClusterJobs.IsClusterContainer(_session, c))
            {
                // The job's allocation holds its node's GPUs (the hold after stop), not this server's lock and
                // inventory: the same node, GPU and job, as long as the job still runs.
                await Cluster.ClusterJobs.RequireJobRunningAsync(_session, c, name, ct).ConfigureAwait(false);
                await _docker.StartContainerAsync(c.ID, ct).ConfigureAwait(false);
            }
            else if (_gpu is not null) await _gpu.StartAsync(c, () => _docker.StartContainerAsync(c.ID, ct), ct).ConfigureAwait(false);
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
        // ds01d hands its binds to Docker as Mounts of type bind (Ds01.Service/Policy/CreateAdmission.cs): check both.
        var sources = (c.HostConfig?.Binds ?? new List<string>()).Select(b => b.Split(':')[0])
            .Concat((c.HostConfig?.Mounts ?? new List<Mount>()).Where(m => m.Type == "bind").Select(m => m.Source ?? ""));
        foreach (var bound in sources)
        {
            // Under ds01d the source is its own mount of the checked directory (BINDDIR/N); the user's path is in ds01.bind.N.
            var source = labels.TryGetValue(Labels.BindDir, out var dir) && bound.StartsWith(dir + "/", StringComparison.Ordinal) &&
                         labels.TryGetValue(Labels.BindPrefix + bound[(dir.Length + 1)..], out var original) ? original : bound;
            if (source.StartsWith("/", StringComparison.Ordinal)) mounts.Check(source, owner, $"mount '{source}' of '{ContainerNaming.ParseTag(c.Name).Name}'");
        }
    }

    public async Task<Ds01Container> StopAsync(string name, UserIdentity owner, int timeoutSeconds, bool kill, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (Cluster.ClusterJobs.IsClusterContainer(_session, c))
        {
            // The GPU hold after stop is the job staying alive: its GRES stay held for the container until
            // maintenance ends the job once the hold has passed (MaintenancePlanner.PlanGpuHold); the Epilog then
            // removes the container. A container without GPUs (or with a zero hold) has nothing to hold: its job ends now.
            var hold = Cluster.ClusterJobs.HoldsAfterStop(c);
            if (!hold) await Cluster.ClusterJobs.EndAsync(_session, c, ct).ConfigureAwait(false);
            if (c.State?.Running == true || c.State?.Paused == true)
            {
                try
                {
                    if (kill) await _docker.KillContainerAsync(c.ID, ct).ConfigureAwait(false);
                    else await _docker.StopContainerAsync(c.ID, timeoutSeconds, ct).ConfigureAwait(false);
                }
                catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.NotFound) { /* the Epilog was quicker */ }
            }
            var d = Detail(c);
            d["job"] = Cluster.ClusterLabels.JobOf(c.Config?.Labels);
            d["job_kept"] = hold;
            Log("container.stop", owner, d);
            var after = await _docker.InspectContainerAsync(c.ID, ct).ConfigureAwait(false);
            if (hold && after is not null && c.Config?.Labels is { } held)
                _session.Feedback.Note($"Slurm job {d["job"]} keeps GPU {d["gpu"]} on {(held.TryGetValue(Cluster.ClusterLabels.Node, out var node) ? node : "its node")} for {Labels.HoldMinutes(held).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} minutes: Start-Ds01Container {name} within that time runs it again there; after it, maintenance ends the job and the container is removed.");
            return ContainerMapper.FromInspect(after ?? c, Now);
        }
        if (c.State?.Running == true || c.State?.Paused == true)
        {
            var d = Detail(c);
            d["method"] = kill ? "kill" : "stop";
            try
            {
                if (kill) await _docker.KillContainerAsync(c.ID, ct).ConfigureAwait(false);
                else await _docker.StopContainerAsync(c.ID, timeoutSeconds, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C ends our wait, not dockerd's stop, which goes on: an action that happens is recorded.
                d["interrupted"] = true;
                Log("container.stop", owner, d);
                throw;
            }
            Log("container.stop", owner, d);
        }
        return await ReadAsync(c.ID, ct).ConfigureAwait(false);
    }

    public async Task<Ds01Container> PauseAsync(string name, UserIdentity owner, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State?.Running != true || c.State?.Paused == true)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerNotRunning",
                $"Container '{name}' is {(c.State?.Paused == true ? "already paused" : "not running")}.", name,
                c.State?.Paused == true ? "Resume it with Resume-Ds01Container." : "Start it with Start-Ds01Container first.");
        await _docker.PauseContainerAsync(c.ID, ct).ConfigureAwait(false);
        Log("container.pause", owner, Detail(c));
        return await ReadAsync(c.ID, ct).ConfigureAwait(false);
    }

    public async Task<Ds01Container> ResumeAsync(string name, UserIdentity owner, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State?.Paused != true)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerNotPaused", $"Container '{name}' is not paused.", name,
                "Only a paused container can be resumed; Start-Ds01Container starts a stopped one.");
        await _docker.UnpauseContainerAsync(c.ID, ct).ConfigureAwait(false);
        Log("container.unpause", owner, Detail(c));
        return await ReadAsync(c.ID, ct).ConfigureAwait(false);
    }

    /// <summary>Removes the container (and AIME's per-container committed image); the workspace stays on the host.</summary>
    public Task RemoveAsync(string name, UserIdentity owner, bool stopFirst, CancellationToken ct) =>
        RemoveAsync(name, owner, stopFirst, null, ct);

    /// <summary>
    /// container-retire: like <see cref="RemoveAsync(string, UserIdentity, bool, CancellationToken)"/>, and with
    /// <paramref name="saveImage"/> the stopped container is first committed to an image in the owner's own
    /// namespace (the only commit Ds01 makes of a user's container). Returns the saved image, or null.
    /// </summary>
    public async Task<string?> RemoveAsync(string name, UserIdentity owner, bool stopFirst, string? saveImage, CancellationToken ct)
    {
        // Checked before anything changes: a bad image name leaves the container as it was.
        var target = saveImage is null ? null : SaveImageReference(saveImage, owner);
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.Config?.Labels is { } jl && Cluster.ClusterLabels.JobOf(jl) is not null && _session.Config.Cluster.IsSlurm)
        {
            if ((c.State?.Running == true || c.State?.Paused == true) && !stopFirst)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerRunning",
                    $"Container '{name}' is running as Slurm job {jl[Cluster.ClusterLabels.Job]}; it was not removed.", name,
                    "Stop it first, or pass -Stop to end the job and remove the container in one step.");
            // The container lives on the node Slurm chose; a commit there would leave the image on that node only.
            if (target is not null)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "SaveImageOnCluster",
                    $"Container '{name}' runs as a Slurm job on another node; -SaveImage is not supported there. Nothing was changed.", name,
                    "Copy what you need into your workspace, then remove the container without -SaveImage.");
            // Ending the job frees its GRES once the Epilog has removed the container; removing it here as well makes
            // the command's result certain, whichever of the two is first.
            await Cluster.ClusterJobs.EndAsync(_session, c, ct).ConfigureAwait(false);
            try { await _docker.RemoveContainerAsync(c.ID, force: true, ct).ConfigureAwait(false); }
            catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.NotFound) { /* the Epilog was quicker */ }
            Log("container.remove", owner, Detail(c));
            return null;
        }
        if (c.State?.Running == true || c.State?.Paused == true)
        {
            if (!stopFirst)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerRunning",
                    $"Container '{name}' is {(c.State?.Paused == true ? "paused" : "running")}; it was not removed.", name,
                    "Stop it first, or pass -Stop to stop and remove it in one step.");
            await _docker.StopContainerAsync(c.ID, 10, ct).ConfigureAwait(false);
            Log("container.stop", owner, Detail(c));
        }
        if (target is not null) await SaveAsync(c, name, target, owner, ct).ConfigureAwait(false);
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
            catch (Ds01Exception e) when (e.Kind is Ds01ErrorKind.AlreadyExists or Ds01ErrorKind.InvalidOperation or Ds01ErrorKind.NotFound)
            { /* still used by another container, or gone: keep it */ }
        }
        return target;
    }

    // Labels that describe what is inside an image (its user setup, its base); every other ds01/AIME label of the
    // container (owner, GPU slots, mounts) is cleared on the saved image, as Docker would copy it into every
    // container made from it (LabelPolicy refuses images with GPU labels).
    private static readonly HashSet<string> ImageContentLabels = new(StringComparer.Ordinal)
    {
        Labels.HasUserSetup, Labels.ImageUserId, Labels.ImageGroupId, Labels.ImageUsername, Labels.BaseImage, Labels.Framework,
    };

    private async Task SaveAsync(ContainerInspectResponse c, string name, string target, UserIdentity owner, CancellationToken ct)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in (c.Config?.Labels ?? new Dictionary<string, string>()).Keys)
            if (LabelPolicy.IsDs01Key(key) && !ImageContentLabels.Contains(key)) labels[key] = "";
        var colon = target.LastIndexOf(':');
        var repository = target[..colon];
        labels[Labels.Project] = repository[(repository.IndexOf('/') + 1)..];
        try
        {
            await _docker.CommitContainerAsync(new CommitContainerChangesParameters
            {
                ContainerID = c.ID,
                RepositoryName = repository,
                Tag = target[(colon + 1)..],
                Comment = $"ds01 retire of {c.Name.TrimStart('/')}",
                Labels = labels,
            }, ct).ConfigureAwait(false);
        }
        catch (Ds01Exception e)
        {
            throw new Ds01Exception(e.Kind, e.ErrorId, $"Saving '{name}' as '{target}' failed, so the container was not removed: {e.Message}",
                name, e.RecommendedAction ?? "Fix the cause named above and retire it again.", e);
        }
        Log("image.save", owner, new Dictionary<string, object?> { ["container"] = c.Name.TrimStart('/'), ["image"] = target });
        _session.Feedback.Note($"Saved '{name}' as the image '{target}'.");
    }

    private static readonly System.Text.RegularExpressions.Regex TagPattern =
        new("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// The image a retire saves to, always in the owner's namespace: "name[:tag]" becomes ds01-{uid}/name[:tag]
    /// (tag latest by default); a full ds01-{uid}/... name is accepted only with the owner's own uid.
    /// </summary>
    public static string SaveImageReference(string requested, UserIdentity owner)
    {
        var slash = requested.IndexOf('/');
        var rest = requested;
        if (slash >= 0)
        {
            var colonAt = requested.IndexOf(':', slash);
            var repository = colonAt < 0 ? requested : requested[..colonAt];
            if (ContainerNaming.ParseImageRepository(repository) is not { } parsed || parsed.Uid != owner.Uid)
                throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "SaveImageNotYours",
                    $"'{requested}' is not an image name in your namespace ({ContainerNaming.ImageRepository(owner.Uid, "<name>")}); a retired container is saved only there.",
                    requested, $"Pass a short name (-SaveImage my-snapshot), which becomes {ContainerNaming.ImageName(owner.Uid, "my-snapshot")}.");
            rest = requested[(slash + 1)..];
        }
        var colon = rest.IndexOf(':');
        var project = colon < 0 ? rest : rest[..colon];
        var tag = colon < 0 ? "latest" : rest[(colon + 1)..];
        if (!ContainerNaming.IsValidProject(project) || !TagPattern.IsMatch(tag))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidSaveImage",
                $"'{requested}' is not a valid image name to save to.", requested,
                "Use lowercase letters, digits, '-' and '_' for the name (up to 63 characters), optionally ':tag' (letters, digits, '_', '.', '-').");
        var reference = $"{ContainerNaming.ImageRepository(owner.Uid, project)}:{tag}";
        ImageReference.Validate(reference);
        return reference;
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
        CancellationToken ct) =>
        (await StatsReportAsync(owner, includeStopped, nameMatches, ct).ConfigureAwait(false)).Stats;

    /// <summary>
    /// Like <see cref="StatsForAsync"/>, and also the matching containers left out because they are not running, so
    /// a host can say "not running" instead of printing nothing for a name the user typed.
    /// </summary>
    public async Task<(IReadOnlyList<Ds01ContainerStats> Stats, IReadOnlyList<Ds01Container> NotRunning)> StatsReportAsync(
        UserIdentity owner, bool includeStopped, Func<string, bool> nameMatches, CancellationToken ct)
    {
        var matching = (await ListAsync(owner, ct).ConfigureAwait(false))
            .Where(c => nameMatches(c.Name))
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        var mine = matching.Where(c => includeStopped || c.State == ContainerState.Running).ToList();
        var stats = await Task.WhenAll(mine.Select(c => StatsAsync(c, ct))).ConfigureAwait(false);
        return (stats, matching.Except(mine).ToList());
    }

    /// <summary>The error for a container the user named whose stats were asked while it is not running.</summary>
    public static Ds01Exception NotRunningForStats(Ds01Container c) =>
        new(Ds01ErrorKind.InvalidOperation, "ContainerNotRunning",
            $"Container '{c.Name}' is {c.State.ToString().ToLowerInvariant()}, not running, so it uses no CPU, memory or GPU.",
            c.Name, $"Start it with Start-Ds01Container {c.Name} (container-start {c.Name}), or add -All to list it with zero use.");

    /// <summary>
    /// What an interactive shell needs: the running container's id (started first when <paramref name="start"/>)
    /// and the shell, the given one or bash when the image has it, else sh.
    /// </summary>
    public async Task<(string Id, string Shell)> ShellTargetAsync(string name, UserIdentity owner, bool start, string? shell, CancellationToken ct)
    {
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State?.Running != true)
        {
            if (!start)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ContainerNotRunning", $"Container '{name}' is not running.", name,
                    "Use Start-Ds01Container first, or Enter-Ds01Container -Start.");
            await StartAsync(name, owner, ct).ConfigureAwait(false);
        }
        if (shell is not null) return (c.ID, shell);
        var bash = await _docker.ExecAsync(c.ID, new[] { "test", "-x", "/bin/bash" }, null, ct).ConfigureAwait(false);
        return (c.ID, bash.ExitCode == 0 ? "/bin/bash" : "/bin/sh");
    }

    public async Task<ExecResult> ExecAsync(string name, UserIdentity owner, IList<string> command, CancellationToken ct)
    {
        if (command.Count == 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "EmptyCommand", "No command was given.", name, "Pass -Command with the program and its arguments.");
        var c = await ResolveAsync(name, owner, ct).ConfigureAwait(false);
        if (c.State?.Running != true || c.State?.Paused == true)
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

    private void Log(string type, UserIdentity owner, IReadOnlyDictionary<string, object?> details) =>
        _session.Recorder.Record(type, owner, details);
}

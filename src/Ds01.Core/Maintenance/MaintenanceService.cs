using System.Globalization;
using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Events;
using Ds01.Core.Gpu;
using Ds01.Core.Naming;

namespace Ds01.Core.Maintenance;

/// <summary>
/// Invoke-Ds01Maintenance's work: gather the facts (Docker, accounts, nvidia-smi, the log), plan with
/// MaintenancePlanner, then carry out each action under the maintenance lock so two runs never both act.
/// One action's failure is recorded on it and the rest go on.
/// </summary>
public sealed class MaintenanceService
{
    public const string ProtectedLabel = "ds01.protected";
    public const string LockFileName = "maintenance.lock";
    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;

    public MaintenanceService(Ds01Session session, IContainerEngine docker)
    {
        _session = session;
        _docker = docker;
    }

    // Maintenance's own events: source ds01-maintenance, "by" maintenance (the Actor column of Get-Ds01Event).
    private EventRecorder Recorder => _recorder ??= new EventRecorder(new EventLog(_session.Events.File, "ds01-maintenance"),
        _session.Caller, _session.Feedback, _session.Clock);
    private EventRecorder? _recorder;

    /// <summary>How long stats may take per container (Docker samples twice, about a second apart).</summary>
    public TimeSpan StatsTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public MaintenanceSettings Settings => _session.Config.ResourceLimits.Maintenance;

    public void DemandAdmin()
    {
        if (!_session.Access.CallerIsAdmin)
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "MaintenanceNeedsAdmin",
                $"Maintenance acts on every user's containers; you are '{_session.Caller.Name}', not an admin.", _session.Caller.Name,
                "Run it as root (the ds01-maintenance systemd timer does) or as a user listed under 'admins'.");
    }

    /// <summary>The plan a run would carry out now, and the state it would leave. Changes nothing.</summary>
    public async Task<(List<Ds01MaintenanceAction> Actions, MaintenanceState Next)> PlanAsync(IReadOnlyCollection<MaintenanceTask> tasks, CancellationToken ct)
    {
        DemandAdmin();
        var now = _session.Clock.GetUtcNow();
        var snapshot = await SnapshotAsync(tasks, now, ct).ConfigureAwait(false);
        return MaintenancePlanner.Plan(snapshot, MaintenanceState.Load(_session.Paths.StateDir), Settings, now, tasks);
    }

    /// <summary>Takes the lock (or fails at once if another run holds it), plans, acts, saves the state.</summary>
    public async Task<List<Ds01MaintenanceAction>> RunAsync(IReadOnlyCollection<MaintenanceTask> tasks, Action<Ds01MaintenanceAction>? done,
        CancellationToken ct)
    {
        DemandAdmin();
        using var held = Lock();
        var (actions, next) = await PlanAsync(tasks, ct).ConfigureAwait(false);
        foreach (var a in actions)
        {
            ct.ThrowIfCancellationRequested();
            await ExecuteAsync(a, ct).ConfigureAwait(false);
            if (a.Done) next.ActionsByTask[a.Task.ToString()] = next.ActionsByTask.GetValueOrDefault(a.Task.ToString()) + 1;
            done?.Invoke(a);
        }
        next.LastRun = _session.Clock.GetUtcNow();
        next.Save(_session.Paths.StateDir);
        return actions;
    }

    private MaintenanceLock Lock() => MaintenanceLock.Acquire(Path.Combine(_session.Paths.StateDir, LockFileName));

    private async Task ExecuteAsync(Ds01MaintenanceAction a, CancellationToken ct)
    {
        var type = a.Task switch
        {
            MaintenanceTask.Idle => "cleanup.idle",
            MaintenanceTask.Runtime => "cleanup.runtime",
            MaintenanceTask.Orphans => "cleanup.orphan",
            MaintenanceTask.GpuHold => "gpu.release",
            _ => "maintenance.rotate",
        };
        var details = new Dictionary<string, object?> { ["reason"] = a.Reason };
        if (a.Container.Length > 0) details["container"] = a.Container;
        if (a.Gpu.Length > 0) details[a.Action is MaintenanceActionKind.Release or MaintenanceActionKind.EndJob ? "slots" : "gpu"] = a.Gpu;
        try
        {
            switch (a.Action)
            {
                case MaintenanceActionKind.Stop:
                    await _docker.StopContainerAsync(a.Id, Settings.StopTimeoutSeconds, ct).ConfigureAwait(false);
                    details["outcome"] = "stopped";
                    break;
                case MaintenanceActionKind.Remove:
                    await _docker.RemoveContainerAsync(a.Id, force: true, ct).ConfigureAwait(false);
                    details["outcome"] = "removed";
                    break;
                case MaintenanceActionKind.RemoveImage:
                    await _docker.RemoveImageAsync(a.Id, force: false, ct).ConfigureAwait(false);
                    details["image"] = a.Target;
                    details["outcome"] = "removed";
                    break;
                case MaintenanceActionKind.Release:
                    details["outcome"] = "success";
                    if (a.StopsAt is { } expired) details["expired_at"] = expired.UtcDateTime.ToString("o", CultureInfo.InvariantCulture);
                    break;
                case MaintenanceActionKind.EndJob:
                    // scancel as root (the timer); the Epilog removes the container and the node frees the GRES.
                    await Cluster.ClusterJobs.CancelJobAsync(_session, a.Job!.Value, a.Container, ct).ConfigureAwait(false);
                    details["job"] = a.Job;
                    details["outcome"] = "job-ended";
                    if (a.StopsAt is { } heldUntil) details["expired_at"] = heldUntil.UtcDateTime.ToString("o", CultureInfo.InvariantCulture);
                    break;
                case MaintenanceActionKind.Warn:
                    type = "maintenance.warning";
                    details["task"] = a.Task.ToString();
                    if (a.StopsAt is { } at) details["stops_at"] = at.UtcDateTime.ToString("o", CultureInfo.InvariantCulture);
                    break;
                case MaintenanceActionKind.Rotate:
                    var plan = EventLogRotation.Plan(a.Target, _session.Clock.GetUtcNow());
                    if (plan is not null) EventLogRotation.Apply(plan);
                    details["file"] = a.Target;
                    details["outcome"] = "success";
                    break;
            }
            a.Done = true;
        }
        catch (Exception e) when (e is Ds01Exception or IOException or UnauthorizedAccessException)
        {
            a.Error = e.Message;
            details["outcome"] = "failure";
            details["error"] = e.Message;
        }
        Recorder.Record(type, a.User, null, details, actor: "maintenance");
    }

    // ---------- facts ----------

    private async Task<MaintenanceSnapshot> SnapshotAsync(IReadOnlyCollection<MaintenanceTask> tasks, DateTimeOffset now, CancellationToken ct)
    {
        var config = _session.Config.ResourceLimits;
        var wantContainers = tasks.Any(t => t != MaintenanceTask.LogRotation);
        var list = wantContainers ? await _docker.ListContainersAsync(null, ct).ConfigureAwait(false) : new List<ContainerListResponse>();
        // Setup containers have their own rule (MaintenancePlanner.SetupLeftoverReason), also when ds01d labelled them for their owner.
        var setups = tasks.Contains(MaintenanceTask.Orphans) ? SetupContainers(list) : new List<SetupContainerFacts>();
        var setupIds = list.Where(IsSetupContainer).Select(c => c.ID).ToHashSet(StringComparer.Ordinal);
        var ours = list.Where(c => Labels.Owner(c.Labels) is not null && !setupIds.Contains(c.ID)).ToList();
        var sampleCpu = tasks.Contains(MaintenanceTask.Idle);
        var gpuUtil = sampleCpu && ours.Any(c => c.Labels.ContainsKey(Labels.GpuSlots)) ? GpuUtilisation() : new Dictionary<string, int?>();
        var ownerCache = new Dictionary<string, (bool Exists, Ds01ResourceLimit? Limits)>();

        using var gate = new SemaphoreSlim(8);
        var facts = await Task.WhenAll(ours.Select(async c =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try { return await FactsAsync(c, config, ownerCache, gpuUtil, sampleCpu, ct).ConfigureAwait(false); }
            finally { gate.Release(); }
        })).ConfigureAwait(false);

        var images = new List<ImageFacts>();
        if (tasks.Contains(MaintenanceTask.Orphans))
            foreach (var i in await _docker.ListImagesAsync(ct).ConfigureAwait(false))
            {
                var tags = (i.RepoTags ?? new List<string>()).Where(t => t != "<none>:<none>").ToList();
                if (tags.Count == 0) continue;
                var legacy = tags.Any(t => t.LastIndexOf(':') is var colon and > 0 && t.Substring(colon + 1).Contains("._.", StringComparison.Ordinal));
                var project = tags.FirstOrDefault(t => t.StartsWith("ds01-", StringComparison.Ordinal) && t.IndexOf('/') > 5);
                var ownerExists = true;
                if (project is not null && int.TryParse(project.Substring(5, project.IndexOf('/') - 5), out var uid))
                    ownerExists = _session.Identities.FindByUid(uid) is not null;
                images.Add(new ImageFacts
                {
                    Id = i.ID, Tags = tags, IsLegacyCommit = legacy, IsProjectImage = project is not null, OwnerExists = ownerExists,
                    Protected = i.Labels is not null && i.Labels.TryGetValue(ProtectedLabel, out var p) && p == "true",
                });
            }
        var containers = facts.Where(f => f is not null).Select(f => f!).ToList();
        if (tasks.Contains(MaintenanceTask.GpuHold) && containers.Any(f => f.SlurmJob is not null))
            await MarkSlurmJobsAsync(containers, ct).ConfigureAwait(false);
        // An account directory that answers "nobody exists" for every owner is down (LDAP, sssd), not empty:
        // removing everyone's containers on that answer would be a disaster, so ownership is not judged this run.
        var owners = containers.Select(f => f.User).Distinct().ToList();
        if (owners.Count >= 2 && containers.All(f => !f.OwnerExists))
        {
            _session.Feedback.Warn($"None of the {owners.Count} container owners was found in the account database; orphans by owner are skipped this run.");
            containers = containers.Select(f => f.With(ownerExists: true)).ToList();
        }
        var rotation = tasks.Contains(MaintenanceTask.LogRotation) ? EventLogRotation.Plan(_session.Paths.EventLogFile, now) : null;
        return new MaintenanceSnapshot { Containers = containers, Images = images, Rotation = rotation, SetupContainers = setups };
    }

    /// <summary>A legacy create's temporary container: its name (UserSetupPath) and the managed label it is made with.</summary>
    private static bool IsSetupContainer(ContainerListResponse c) =>
        c.Labels is not null && c.Labels.TryGetValue(Labels.Managed, out var m) && m == "true" &&
        c.Names?.Any(n => Images.UserSetupPath.SetupContainerName.IsMatch(n)) == true;

    private static List<SetupContainerFacts> SetupContainers(IEnumerable<ContainerListResponse> list) => list.Where(IsSetupContainer).Select(c =>
    {
        var name = c.Names!.First(n => Images.UserSetupPath.SetupContainerName.IsMatch(n));
        return new SetupContainerFacts
        {
            Id = c.ID, Name = name.TrimStart('/'), Uid = Images.UserSetupPath.SetupContainerName.Match(name).Groups[2].Value,
            // Only a container that cannot be running any more counts as stopped; "removing" and unknown states count as running.
            Running = c.State is not ("created" or "exited" or "dead"),
            CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)),
            Protected = c.Labels.TryGetValue(ProtectedLabel, out var p) && p == "true",
        };
    }).ToList();

    /// <summary>
    /// Marks the cluster containers whose Slurm job still runs (one squeue for all). When slurmctld does not answer,
    /// none counts as running, so no job is ended on a guess; the next run tries again.
    /// </summary>
    private async Task MarkSlurmJobsAsync(List<ContainerFacts> containers, CancellationToken ct)
    {
        HashSet<long> running;
        try
        {
            running = (await new Cluster.SlurmClient(_session.Config.Cluster).JobsAsync(ct).ConfigureAwait(false))
                .Where(j => j.IsRunning).Select(j => j.JobId).ToHashSet();
        }
        catch (Ds01Exception e)
        {
            _session.Feedback.Warn($"Slurm's job list could not be read ({e.Message}); cluster GPU holds are checked next run.");
            return;
        }
        foreach (var f in containers) f.SlurmJobRunning = f.SlurmJob is { } job && running.Contains(job);
    }

    private async Task<ContainerFacts?> FactsAsync(ContainerListResponse listed, ResourceLimitsConfig config,
        Dictionary<string, (bool, Ds01ResourceLimit?)> owners, IReadOnlyDictionary<string, int?> gpuUtil, bool sampleCpu, CancellationToken ct)
    {
        var c = await _docker.InspectContainerAsync(listed.ID, ct).ConfigureAwait(false);
        if (c is null) return null; // removed meanwhile
        var mapped = ContainerMapper.FromInspect(c, _session.Clock.GetUtcNow());
        var labels = c.Config?.Labels ?? new Dictionary<string, string>();
        var user = mapped.User ?? "";
        var (exists, limits) = Owner(user, mapped.Uid, config, owners);
        double? cpu = null;
        if (sampleCpu && mapped.State == ContainerState.Running)
        {
            try { cpu = StatsCalculator.From(mapped, await _docker.GetStatsAsync(c.ID, StatsTimeout, ct).ConfigureAwait(false)).CpuPercent; }
            catch (Ds01Exception e) { _session.Feedback.Warn($"No CPU sample for {mapped.Tag} (counted as busy): {e.Message}"); }
        }
        int? util = null;
        foreach (var slot in mapped.Gpu.Split(',', StringSplitOptions.RemoveEmptyEntries))
            if (gpuUtil.TryGetValue(Ds01GpuSlot.NormalizeSlotId(slot.Trim()), out var u) && u is not null) util = Math.Max(util ?? 0, u.Value);
        var workspace = c.Mounts?.FirstOrDefault(m => m.Destination == "/workspace")?.Source;
        DateTimeOffset? keepAlive = null;
        if (workspace is not null)
        {
            var file = Path.Combine(workspace, ".keep-alive");
            if (File.Exists(file)) keepAlive = new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero);
        }
        return new ContainerFacts
        {
            Id = c.ID, Tag = mapped.Tag, User = user, State = mapped.State, CreatedAt = mapped.CreatedAt,
            StartedAt = ContainerMapper.ParseTime(c.State?.StartedAt), FinishedAt = ContainerMapper.ParseTime(c.State?.FinishedAt),
            Protected = labels.TryGetValue(ProtectedLabel, out var p) && p == "true",
            OwnerExists = exists, ImageId = c.Image ?? listed.ImageID ?? "", Gpu = mapped.Gpu,
            GpuHoldMinutes = GpuHoldingReader.HoldMinutes(labels),
            CpuPercent = cpu, GpuUtilPercent = util, ExecSessions = c.ExecIDs?.Count ?? 0, KeepAliveAt = keepAlive,
            IdleTimeoutHours = limits?.IdleTimeoutHours, MaxRuntimeHours = limits?.MaxRuntimeHours,
            SlurmJob = _session.Config.Cluster.IsSlurm ? Cluster.ClusterLabels.JobOf(labels) : null,
        };
    }

    private (bool Exists, Ds01ResourceLimit? Limits) Owner(string user, int? uid, ResourceLimitsConfig config,
        Dictionary<string, (bool, Ds01ResourceLimit?)> cache)
    {
        var key = $"{user}/{uid}";
        lock (cache)
        {
            if (cache.TryGetValue(key, out var hit)) return hit;
            var identity = uid is { } u ? _session.Identities.FindByUid(u) : user.Length > 0 ? _session.Identities.FindByName(user) : null;
            var limits = LimitResolver.Resolve(config, identity?.Name ?? user, identity?.Groups ?? Array.Empty<string>());
            return cache[key] = (identity is not null, limits);
        }
    }

    /// <summary>Utilisation by slot id; empty when there is no GPU inventory (a CPU-only machine, or no nvidia-smi).</summary>
    private IReadOnlyDictionary<string, int?> GpuUtilisation()
    {
        try
        {
            return new GpuInventory().Load(GpuConfig.Load(_session.Paths.ConfigDir)).ToDictionary(s => s.Slot, s => s.UtilizationPercent);
        }
        catch (Ds01Exception e)
        {
            _session.Feedback.Warn($"No GPU utilisation ({e.Message}); idle is judged by CPU and sessions alone.");
            return new Dictionary<string, int?>();
        }
    }
}

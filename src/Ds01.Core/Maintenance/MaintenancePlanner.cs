using System.Globalization;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;

namespace Ds01.Core.Maintenance;

/// <summary>
/// Decides, from a snapshot and the remembered samples, what a run does. Pure: no Docker, no clock, no files,
/// so -WhatIf shows exactly what a real run carries out and the rules are tested and benchmarked directly.
/// Returns the next state too (samples and warnings), which only a real run saves.
/// </summary>
public static class MaintenancePlanner
{
    public static readonly IReadOnlyList<MaintenanceTask> AllTasks = Enum.GetValues<MaintenanceTask>();

    /// <summary>
    /// A setup container that is not running and is this old was left behind: the legacy create commits it as soon
    /// as its script exits (under a second, README "Performance") and removes it right after, so only a killed
    /// client or a dockerd restart in between leaves one (otherwise removed only by a later create of the same tag).
    /// Half an hour leaves room for the commit of a large image.
    /// </summary>
    public static readonly TimeSpan SetupLeftoverAge = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A running setup container this old is hung (its script waits on something that never comes): no user
    /// setup takes hours, and its create has waited that long already; removing it fails that create with
    /// UserSetupFailed instead of leaving it waiting for good. Younger running ones are in use and kept.
    /// </summary>
    public static readonly TimeSpan SetupHungAge = TimeSpan.FromHours(6);

    public static (List<Ds01MaintenanceAction> Actions, MaintenanceState Next) Plan(MaintenanceSnapshot snap, MaintenanceState state,
        MaintenanceSettings settings, DateTimeOffset now, IReadOnlyCollection<MaintenanceTask> tasks)
    {
        var next = state.Clone();
        var actions = new List<Ds01MaintenanceAction>();
        var stopping = new HashSet<string>(StringComparer.Ordinal);
        var removing = new HashSet<string>(StringComparer.Ordinal);
        var live = snap.Containers.Where(c => !c.Protected).ToList();

        if (tasks.Contains(MaintenanceTask.Idle)) PlanIdle(live, next, settings, now, actions, stopping);
        if (tasks.Contains(MaintenanceTask.Runtime)) PlanRuntime(live, next, settings, now, actions, stopping);
        if (tasks.Contains(MaintenanceTask.GpuHold)) PlanGpuHold(live, next, now, actions);
        if (tasks.Contains(MaintenanceTask.Orphans)) PlanOrphans(snap, live, settings, now, actions, removing);
        if (tasks.Contains(MaintenanceTask.LogRotation) && snap.Rotation is { } r)
            actions.Add(new Ds01MaintenanceAction
            {
                Task = MaintenanceTask.LogRotation, Action = MaintenanceActionKind.Rotate, Target = r.LogFile, User = "",
                Reason = $"the oldest event is from {r.OldestEvent:yyyy-MM-dd}, a week or more ago" +
                         (r.Deletes.Count > 0 ? $"; deletes {string.Join(", ", r.Deletes.Select(Path.GetFileName))} (past {Events.EventLogRotation.RetentionWeeks} weeks)" : ""),
            });

        // Containers that are gone, or no longer running, take their samples with them.
        var running = snap.Containers.Where(c => c.State is ContainerState.Running or ContainerState.Paused).Select(c => c.Id).ToHashSet();
        foreach (var id in next.Containers.Keys.ToList())
            if (!running.Contains(id) || stopping.Contains(id) || removing.Contains(id)) next.Containers.Remove(id);
        return (actions, next);
    }

    private static string Hours(double h) => h.ToString("0.##", CultureInfo.InvariantCulture) + " h";

    private static void PlanIdle(List<ContainerFacts> live, MaintenanceState next, MaintenanceSettings s, DateTimeOffset now,
        List<Ds01MaintenanceAction> actions, HashSet<string> stopping)
    {
        foreach (var c in live.Where(c => c.State == ContainerState.Running))
        {
            if (!next.Containers.TryGetValue(c.Id, out var rec) || rec.StartedAt != c.StartedAt)
                next.Containers[c.Id] = rec = new ContainerSamples { StartedAt = c.StartedAt };
            rec.Tag = c.Tag;
            rec.LastSample = now;
            rec.LastCpuPercent = c.CpuPercent;
            var keepAlive = c.KeepAliveAt is { } k && now - k <= TimeSpan.FromHours(s.KeepAliveMaxHours);
            var idle = c.CpuPercent is { } cpu && cpu < s.IdleCpuPercent && (c.GpuUtilPercent ?? 0) == 0 && c.ExecSessions == 0 && !keepAlive;
            if (!idle) { rec.IdleSince = null; rec.StopsAt = null; continue; }
            rec.IdleSince ??= now;
            if (c.IdleTimeoutHours is not { } timeout) { rec.StopsAt = null; continue; }
            var stopsAt = rec.IdleSince.Value + TimeSpan.FromHours(timeout);
            rec.StopsAt = stopsAt;
            if (stopsAt <= now)
            {
                stopping.Add(c.Id);
                actions.Add(Act(c, MaintenanceTask.Idle, MaintenanceActionKind.Stop,
                    $"idle since {rec.IdleSince:yyyy-MM-dd HH:mm}Z (CPU {c.CpuPercent:0.#}% < {s.IdleCpuPercent}%, no GPU use, no session), timeout {Hours(timeout)}", stopsAt));
            }
            else if (rec.IdleSince.Value + TimeSpan.FromHours(timeout * s.IdleWarnFraction) <= now && rec.IdleWarnedFor != rec.IdleSince)
            {
                rec.IdleWarnedFor = rec.IdleSince;
                actions.Add(Act(c, MaintenanceTask.Idle, MaintenanceActionKind.Warn,
                    $"idle since {rec.IdleSince:yyyy-MM-dd HH:mm}Z; stops at {stopsAt:yyyy-MM-dd HH:mm}Z unless used (touch /workspace/.keep-alive to postpone)", stopsAt));
            }
        }
    }

    private static void PlanRuntime(List<ContainerFacts> live, MaintenanceState next, MaintenanceSettings s, DateTimeOffset now,
        List<Ds01MaintenanceAction> actions, HashSet<string> stopping)
    {
        foreach (var c in live.Where(c => c.State is ContainerState.Running or ContainerState.Paused))
        {
            if (c.MaxRuntimeHours is not { } max || c.StartedAt is not { } started || stopping.Contains(c.Id)) continue;
            var stopsAt = started + TimeSpan.FromHours(max);
            if (stopsAt <= now)
            {
                stopping.Add(c.Id);
                actions.Add(Act(c, MaintenanceTask.Runtime, MaintenanceActionKind.Stop,
                    $"running since {started:yyyy-MM-dd HH:mm}Z, longer than max_runtime_hours {Hours(max)}", stopsAt));
                continue;
            }
            if (started + TimeSpan.FromHours(max * s.RuntimeWarnFraction) > now) continue;
            if (!next.Containers.TryGetValue(c.Id, out var rec) || rec.StartedAt != c.StartedAt)
                next.Containers[c.Id] = rec = new ContainerSamples { StartedAt = c.StartedAt, Tag = c.Tag, LastSample = now };
            if (rec.RuntimeWarnedFor == started) continue;
            rec.RuntimeWarnedFor = started;
            actions.Add(Act(c, MaintenanceTask.Runtime, MaintenanceActionKind.Warn,
                $"reaches max_runtime_hours {Hours(max)} at {stopsAt:yyyy-MM-dd HH:mm}Z and will be stopped then", stopsAt));
        }
    }

    private static void PlanGpuHold(List<ContainerFacts> live, MaintenanceState next, DateTimeOffset now, List<Ds01MaintenanceAction> actions)
    {
        var since = next.LastGpuHoldRun ?? DateTimeOffset.MinValue;
        foreach (var c in live.Where(c => c.State == ContainerState.Stopped && c.Gpu.Length > 0 && c.FinishedAt is not null && c.SlurmJob is null))
        {
            var expired = c.FinishedAt!.Value + TimeSpan.FromMinutes(c.GpuHoldMinutes);
            if (expired > since && expired <= now)
                actions.Add(Act(c, MaintenanceTask.GpuHold, MaintenanceActionKind.Release,
                    $"stopped {c.FinishedAt:yyyy-MM-dd HH:mm}Z; the {c.GpuHoldMinutes:0.##}-minute hold on GPU {c.Gpu} ended {expired:yyyy-MM-dd HH:mm}Z", expired));
        }
        // On a cluster the hold is the container's Slurm job staying alive with its GRES: past the hold the job is
        // ended (and ended again on a later run while Slurm still says it runs, so a missed run never holds GPUs
        // for good); the Epilog then removes the container. Without GPUs nothing is held, so the hold is zero.
        foreach (var c in live.Where(c => c.State == ContainerState.Stopped && c.SlurmJob is not null && c.SlurmJobRunning && c.FinishedAt is not null))
        {
            var minutes = c.Gpu.Length > 0 ? c.GpuHoldMinutes : 0;
            var expired = c.FinishedAt!.Value + TimeSpan.FromMinutes(minutes);
            if (expired > now) continue;
            actions.Add(new Ds01MaintenanceAction
            {
                Task = MaintenanceTask.GpuHold, Action = MaintenanceActionKind.EndJob, Container = c.Tag, Target = c.Tag, User = c.User, Id = c.Id,
                Gpu = c.Gpu, Job = c.SlurmJob, StopsAt = expired,
                Reason = c.Gpu.Length > 0
                    ? $"stopped {c.FinishedAt:yyyy-MM-dd HH:mm}Z; the {minutes:0.##}-minute hold on GPU {c.Gpu} ended {expired:yyyy-MM-dd HH:mm}Z: ends Slurm job {c.SlurmJob}"
                    : $"stopped {c.FinishedAt:yyyy-MM-dd HH:mm}Z without GPUs to hold: ends Slurm job {c.SlurmJob}",
            });
        }
        next.LastGpuHoldRun = now;
    }

    private static void PlanOrphans(MaintenanceSnapshot snap, List<ContainerFacts> live, MaintenanceSettings s, DateTimeOffset now,
        List<Ds01MaintenanceAction> actions, HashSet<string> removing)
    {
        foreach (var c in live)
        {
            string? reason = null;
            if (!c.OwnerExists) reason = $"the owner account '{c.User}' no longer exists";
            else if (c.State == ContainerState.Created && c.StartedAt is null && now - c.CreatedAt >= TimeSpan.FromHours(s.NeverStartedHours))
                reason = $"created {c.CreatedAt:yyyy-MM-dd HH:mm}Z and never started (limit {Hours(s.NeverStartedHours)})";
            if (reason is null) continue;
            removing.Add(c.Id);
            actions.Add(Act(c, MaintenanceTask.Orphans, MaintenanceActionKind.Remove, reason, null));
        }
        foreach (var setup in snap.SetupContainers)
        {
            if (SetupLeftoverReason(setup, now) is not { } why) continue;
            removing.Add(setup.Id);
            actions.Add(new Ds01MaintenanceAction
            {
                Task = MaintenanceTask.Orphans, Action = MaintenanceActionKind.Remove, Id = setup.Id,
                Container = setup.Name, Target = setup.Name, User = setup.Uid, Reason = why,
            });
        }
        // Images still used by a container that stays (planned removals no longer count).
        var used = snap.Containers.Where(c => !removing.Contains(c.Id)).Select(c => c.ImageId).ToHashSet(StringComparer.Ordinal);
        foreach (var i in snap.Images)
        {
            if (i.Protected || used.Contains(i.Id)) continue;
            string? reason = i.IsLegacyCommit ? "a legacy committed image (run + commit) that no container uses"
                : i.IsProjectImage && !i.OwnerExists ? "a Ds01 project image of a removed account, used by no container"
                : i.IsProjectImage && s.RemoveUnusedProjectImages ? "a Ds01 project image that no container uses"
                : null;
            if (reason is null) continue;
            actions.Add(new Ds01MaintenanceAction
            {
                Task = MaintenanceTask.Orphans, Action = MaintenanceActionKind.RemoveImage, Id = i.Id,
                Target = i.Tags.FirstOrDefault() ?? i.Id, Reason = reason,
                User = i.Tags.Select(ImageOwner).FirstOrDefault(u => u is not null) ?? "",
            });
        }
    }

    /// <summary>Why a legacy setup container is removed now, or null when it is kept (young, in use, or protected).</summary>
    public static string? SetupLeftoverReason(SetupContainerFacts c, DateTimeOffset now)
    {
        if (c.Protected) return null;
        var age = now - c.CreatedAt;
        if (!c.Running && age >= SetupLeftoverAge)
            return $"a legacy setup container left behind by an interrupted create (created {c.CreatedAt:yyyy-MM-dd HH:mm}Z, not running, older than {SetupLeftoverAge.TotalMinutes:0} minutes)";
        if (c.Running && age >= SetupHungAge)
            return $"a legacy setup container whose script hangs (created {c.CreatedAt:yyyy-MM-dd HH:mm}Z, still running after {Hours(SetupHungAge.TotalHours)})";
        return null;
    }

    /// <summary>The uid in ds01-{uid}/project or in a legacy tag name._.uid, as text.</summary>
    private static string? ImageOwner(string tag)
    {
        if (tag.StartsWith("ds01-", StringComparison.Ordinal) && tag.IndexOf('/') is var slash and > 5) return tag.Substring(5, slash - 5);
        var sep = tag.LastIndexOf("._.", StringComparison.Ordinal);
        return sep >= 0 ? tag.Substring(sep + 3) : null;
    }

    private static Ds01MaintenanceAction Act(ContainerFacts c, MaintenanceTask task, MaintenanceActionKind kind, string reason, DateTimeOffset? stopsAt) => new()
    {
        Task = task, Action = kind, Container = c.Tag, Target = c.Tag, User = c.User, Id = c.Id, Gpu = c.Gpu, Reason = reason, StopsAt = stopsAt,
    };
}

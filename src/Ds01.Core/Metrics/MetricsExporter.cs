using System.Text;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Maintenance;
using Ds01.Core.Status;
using Prometheus;

namespace Ds01.Core.Metrics;

/// <summary>
/// The server's state as Prometheus text exposition, built with prometheus-net on a fresh registry per call so
/// each export is one consistent snapshot. ds01d serves the same text at /metrics; Export-Ds01Metric writes it
/// for node_exporter's textfile collector, atomically (temp file + rename) so the collector never reads half a file.
/// </summary>
public static class MetricsExporter
{
    public static string Exposition(Ds01SystemStatus status, MaintenanceState maintenance, Func<string, string?> groupOf)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        // prometheus-net adds process and .NET metrics to the default registry only; this one has ours alone.

        var slots = f.CreateGauge("ds01_gpu_slots", "GPU slots (full GPUs and MIG instances) by state.", "state");
        foreach (var st in Enum.GetValues<GpuSlotState>())
            slots.WithLabels(st.ToString().ToLowerInvariant()).Set(status.Slots.Count(s => s.State == st));

        f.CreateGauge("ds01_gpu_equivalents", "GPU-equivalents on this server (full GPU 1.0, MIG Ng N/7).").Set(status.GpuEquivalentsTotal);
        f.CreateGauge("ds01_gpu_equivalents_allocated", "GPU-equivalents allocated or held.").Set(status.GpuEquivalentsAllocated);

        var used = f.CreateGauge("ds01_user_gpu_equivalents", "GPU-equivalents a user holds (allocated or held), with the user's group.", "user", "group");
        foreach (var g in status.Slots.Where(s => s.State != GpuSlotState.Free).GroupBy(s => s.User ?? ""))
            used.WithLabels(g.Key, groupOf(g.Key) ?? "").Set(Math.Round(g.Sum(s => s.Weight), 4));

        var utilisation = f.CreateGauge("ds01_gpu_slot_utilization_percent", "GPU utilisation by slot, as nvidia-smi reports it.", "slot");
        foreach (var s in status.Slots.Where(s => s.UtilizationPercent is not null))
            utilisation.WithLabels(s.Slot).Set(s.UtilizationPercent!.Value);

        var containers = f.CreateGauge("ds01_containers", "Ds01 and AIME containers by state.", "state");
        foreach (var st in Enum.GetValues<ContainerState>())
            containers.WithLabels(st.ToString().ToLowerInvariant()).Set(status.Containers.Count(c => c.State == st));
        f.CreateGauge("ds01_containers_idle", "Running containers idle in every maintenance sample so far.").Set(status.ContainersIdle);
        f.CreateGauge("ds01_gpu_queue_length", "Requests waiting for a GPU.").Set(status.QueuedRequests);

        var actions = f.CreateCounter("ds01_maintenance_actions_total", "Maintenance actions carried out, by task.", "task");
        foreach (var task in Enum.GetValues<MaintenanceTask>())
            actions.WithLabels(task.ToString()).IncTo(maintenance.ActionsByTask.GetValueOrDefault(task.ToString()));
        if (maintenance.LastRun is { } last)
            f.CreateGauge("ds01_maintenance_last_run_timestamp_seconds", "When maintenance last ran (Unix time).").Set(last.ToUnixTimeMilliseconds() / 1000.0);

        using var ms = new MemoryStream();
        registry.CollectAndExportAsTextAsync(ms).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The exposition for this session's server (what ds01d serves at /metrics).</summary>
    public static async Task<string> CollectAsync(Ds01Session session, Docker.IContainerEngine docker, CancellationToken ct)
    {
        var status = await new SystemStatusService(session, docker).GetAsync(ct).ConfigureAwait(false);
        MaintenanceState state;
        try { state = MaintenanceState.Load(session.Paths.StateDir); }
        catch (Ds01Exception) { state = new MaintenanceState(); }
        ResourceLimitsConfig? config = null;
        try { config = session.Config.ResourceLimits; } catch (Ds01Exception) { }
        string? GroupOf(string user)
        {
            if (config is null || user.Length == 0) return null;
            var identity = session.Identities.FindByName(user);
            return LimitResolver.GroupOf(config, user, identity?.Groups ?? Array.Empty<string>());
        }
        return Exposition(status, state, GroupOf);
    }

    /// <summary>Writes the text next to its final name and renames it into place.</summary>
    public static void WriteAtomically(string path, string text)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "MetricPathIsDirectory", $"'{full}' is a directory.", full,
                "Give a file name, e.g. /var/lib/node_exporter/textfile/ds01.prom.");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "MetricDirectoryNotFound", $"The directory '{dir}' does not exist.", dir,
                "Create it, or point -Path at node_exporter's --collector.textfile.directory.");
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(tmp, text, new UTF8Encoding(false));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}

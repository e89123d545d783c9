using System.Globalization;
using Ds01.Core.Configuration;

namespace Ds01.Core.Cluster;

/// <summary>One sacctmgr change Sync-Ds01SlurmAccount makes (or, with -WhatIf, would make).</summary>
public sealed class Ds01SlurmAccountChange
{
    public string Action { get; init; } = "";
    /// <summary>The QOS, account or user changed.</summary>
    public string Target { get; init; } = "";
    /// <summary>The sacctmgr arguments, as one line for display and CSV.</summary>
    public string Command { get; init; } = "";
    public bool Applied { get; set; }
    internal IReadOnlyList<string> Arguments { get; init; } = Array.Empty<string>();

    public override string ToString() => Command;
}

/// <summary>
/// Slurm's quotas generated from resource-limits.yaml: a QOS per cluster.yaml qos entry (priority = its minimum
/// Ds01 priority), the Ds01 account, and per configured user an association with GrpTRES=gres/gpu=gpu_limit
/// (rounded up to whole GRES; unlimited = -1), the QOS their priority allows and the one it defaults to. Only the
/// differences from what sacctmgr reports become changes, so a second run plans nothing.
/// </summary>
public sealed class SlurmAccountSync
{
    public const string DefaultAccount = "ds01";
    private readonly Ds01Session _session;
    private readonly SlurmClient _slurm;

    public SlurmAccountSync(Ds01Session session)
    {
        _session = session;
        _slurm = new SlurmClient(session.Config.Cluster);
    }

    private ClusterConfig Cluster => _session.Config.Cluster;
    public string Account => Cluster.Account ?? DefaultAccount;

    public async Task<IReadOnlyList<Ds01SlurmAccountChange>> PlanAsync(CancellationToken ct)
    {
        if (!Cluster.IsSlurm)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "ClusterNotSlurm", $"{Cluster.File} does not say backend: slurm.", Cluster.File,
                "Set backend: slurm (with slurm.partition and slurm.nodes) in cluster.yaml first.");
        var config = _session.Config.ResourceLimits;
        var changes = new List<Ds01SlurmAccountChange>();
        var qosNow = Table(await _slurm.RequireAsync("sacctmgr", new[] { "-n", "-P", "show", "qos", "format=name,priority" }, null, ct).ConfigureAwait(false))
            .ToDictionary(r => r[0], r => r.Length > 1 ? r[1] : "", StringComparer.Ordinal);
        foreach (var (qos, min) in Cluster.Qos)
        {
            var priority = min.ToString(CultureInfo.InvariantCulture);
            if (!qosNow.TryGetValue(qos, out var have))
                changes.Add(Change("AddQos", qos, "add", "qos", qos, $"priority={priority}"));
            else if (have != priority)
                changes.Add(Change("SetQosPriority", qos, "modify", "qos", "where", $"name={qos}", "set", $"priority={priority}"));
        }
        var accounts = Table(await _slurm.RequireAsync("sacctmgr", new[] { "-n", "-P", "show", "account", "format=account" }, null, ct).ConfigureAwait(false))
            .Select(r => r[0]).ToHashSet(StringComparer.Ordinal);
        if (!accounts.Contains(Account))
            changes.Add(Change("AddAccount", Account, "add", "account", Account, "description=ds01", "organization=ds01"));

        var assoc = Table(await _slurm.RequireAsync("sacctmgr", new[] { "-n", "-P", "show", "assoc", "format=user,account,grptres,qos,defaultqos" }, null, ct).ConfigureAwait(false))
            .Where(r => r.Length >= 5 && r[0].Length > 0 && r[1] == Account)
            .ToDictionary(r => r[0], r => r, StringComparer.Ordinal);
        foreach (var user in ConfiguredUsers(config))
        {
            var limits = LimitResolver.Resolve(config, user, Array.Empty<string>());
            var gpus = limits.GpuLimit is { } g ? ((int)Math.Ceiling(g - 1e-9)).ToString(CultureInfo.InvariantCulture) : "-1";
            var allowed = Cluster.Qos.Where(q => limits.Priority >= q.MinPriority).Select(q => q.Qos).OrderBy(q => q, StringComparer.Ordinal).ToList();
            var def = Cluster.QosFor(limits.Priority);
            if (!assoc.TryGetValue(user, out var row))
            {
                changes.Add(Change("AddUser", user, "add", "user", user, $"account={Account}"));
                row = new[] { user, Account, "", "", "" };
            }
            var set = new List<string>();
            var tres = row[2].Split(',', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(t => t.StartsWith("gres/gpu=", StringComparison.Ordinal));
            if (gpus == "-1" ? tres is not null : tres != $"gres/gpu={gpus}") set.Add($"GrpTRES=gres/gpu={gpus}");
            if (allowed.Count > 0)
            {
                var haveQos = row[3].Split(',', StringSplitOptions.RemoveEmptyEntries).OrderBy(q => q, StringComparer.Ordinal);
                if (!haveQos.SequenceEqual(allowed)) set.Add($"QOS={string.Join(",", allowed)}");
                if (def is not null && row[4] != def) set.Add($"DefaultQOS={def}");
            }
            if (set.Count > 0)
                changes.Add(Change("SetUserLimits", user, new[] { "modify", "user", "where", $"name={user}", $"account={Account}", "set" }.Concat(set).ToArray()));
        }
        return changes;
    }

    public async Task ApplyAsync(Ds01SlurmAccountChange change, CancellationToken ct)
    {
        await _slurm.RequireAsync("sacctmgr", new[] { "-i" }.Concat(change.Arguments).ToList(), null, ct, "SlurmAccountChangeFailed").ConfigureAwait(false);
        change.Applied = true;
        _session.Recorder.Record("cluster.account_sync", _session.Caller, new Dictionary<string, object?>
        {
            ["action"] = change.Action, ["target"] = change.Target, ["command"] = change.Command,
        });
    }

    /// <summary>Users named in resource-limits.yaml: under users, and group members.</summary>
    public static IReadOnlyList<string> ConfiguredUsers(ResourceLimitsConfig config) =>
        config.Users.Keys.Concat(config.Groups.Values.SelectMany(g => g.Members)).Distinct(StringComparer.Ordinal)
            .OrderBy(u => u, StringComparer.Ordinal).ToList();

    private static Ds01SlurmAccountChange Change(string action, string target, params string[] args) =>
        new() { Action = action, Target = target, Arguments = args, Command = "sacctmgr " + string.Join(" ", args) };

    private static IEnumerable<string[]> Table(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split('|'));
}

using System.Globalization;
using Ds01.Core.Events;
using Ds01.Core.Gpu;

namespace Ds01.Core.Cluster;

/// <summary>One Ds01 job as Slurm's accounting (sacct, slurmdbd) recorded it.</summary>
public sealed record SacctJob(long JobId, string Name, string User, DateTimeOffset? Start, DateTimeOffset? End, string AllocTres, string State);

/// <summary>
/// Get-Ds01UsageReport on a cluster: GPU-hours from Slurm's accounting instead of this server's events, as every
/// node's jobs are there (the events hold only what this server did). A job's GPU-equivalents come from its
/// AllocTRES (gres/gpu:h100=2 is 2, a MIG type such as gres/gpu:3g.40gb=1 counts 3/7 as Ds01 weighs it), its time is
/// its run from Start to End (or to the end of the window while it runs), cut to the window.
/// </summary>
public static class SlurmUsage
{
    private static readonly string[] Fields = { "JobID", "JobName", "User", "Start", "End", "AllocTRES", "State" };

    public static async Task<IReadOnlyList<SacctJob>> ReadAsync(Ds01Session session, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var cluster = session.Config.Cluster;
        // As with the events (EventService.Scope): admins see everyone's jobs, any other user only their own, even
        // where Slurm's PrivateData would show more.
        var admin = session.Access.CallerIsAdmin;
        var args = new List<string> { "-X", "-P", "-n", "-o", string.Join(",", Fields), "-S", Time(from), "-E", Time(to) };
        if (admin) args.Insert(0, "-a");
        else { args.Add("-u"); args.Add(session.Caller.Name); }
        if (cluster.Partition is not null) { args.Add("-r"); args.Add(cluster.Partition); }
        // sacct reads and writes times in the local zone of its process: UTC on both sides keeps them exact.
        var r = await new SlurmClient(cluster).RunAsync("sacct", args, null, ct, new Dictionary<string, string> { ["TZ"] = "UTC" }).ConfigureAwait(false);
        if (r.ExitCode != 0)
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "SlurmAccountingUnreadable",
                $"sacct failed (exit {r.ExitCode}): {(string.IsNullOrWhiteSpace(r.StdErr) ? r.StdOut.Trim() : r.StdErr.Trim())}", "sacct",
                "Check that slurmdbd answers (sacctmgr show cluster) and that accounting is enabled (AccountingStorageType), or use -Source Events.");
        var jobs = Parse(r.StdOut);
        return admin ? jobs : jobs.Where(j => j.User == session.Caller.Name).ToList();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>`sacct -P -n -o JobID,JobName,User,Start,End,AllocTRES,State` (times in UTC); only Ds01's jobs (named ds01:&lt;tag&gt;).</summary>
    public static IReadOnlyList<SacctJob> Parse(string text)
    {
        var jobs = new List<SacctJob>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split('|');
            if (f.Length < Fields.Length || !f[1].StartsWith(ClusterQueue.JobNamePrefix, StringComparison.Ordinal)) continue;
            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)) continue;
            jobs.Add(new SacctJob(id, f[1], f[2], ParseTime(f[3]), ParseTime(f[4]), f[5], f[6]));
        }
        return jobs;
    }

    private static DateTimeOffset? ParseTime(string s) =>
        DateTime.TryParseExact(s, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
            ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    /// <summary>The job's GPUs by GRES type ("h100", "3g.40gb"; "gpu" when untyped), each with its count.</summary>
    public static IReadOnlyList<(string Type, int Count)> Gpus(string allocTres)
    {
        var typed = new List<(string, int)>();
        var total = 0;
        foreach (var part in allocTres.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq < 0 || !int.TryParse(part[(eq + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) continue;
            var key = part[..eq];
            if (key == "gres/gpu") total = n;
            else if (key.StartsWith("gres/gpu:", StringComparison.Ordinal)) typed.Add((key["gres/gpu:".Length..], n));
        }
        // Typed counts add up to the total when every GPU has a type; the untyped rest counts as whole GPUs.
        var rest = total - typed.Sum(t => t.Item2);
        if (rest > 0) typed.Add(("gpu", rest));
        return typed;
    }

    public static double Weight(string type) => Ds01GpuSlot.TryMigWeight(type, out var w) ? w : 1.0;

    public static IReadOnlyList<Ds01UsageSummary> Compute(IEnumerable<SacctJob> jobs, DateTimeOffset from, DateTimeOffset to, UsageGrouping by,
        Func<string, string?> groupOf)
    {
        var rows = new Dictionary<string, Ds01UsageSummary>(StringComparer.Ordinal);
        Ds01UsageSummary Row(string name) => rows.TryGetValue(name, out var r) ? r
            : rows[name] = new Ds01UsageSummary { By = by, Name = name, From = from, To = to };
        foreach (var j in jobs)
        {
            var gpus = Gpus(j.AllocTres);
            var keys = by switch
            {
                UsageGrouping.User => new[] { j.User },
                UsageGrouping.Group => new[] { groupOf(j.User) ?? "(none)" },
                UsageGrouping.Gpu => gpus.Count == 0 ? new[] { "(none)" } : gpus.Select(g => g.Type).ToArray(),
                _ => Array.Empty<string>(),
            };
            if (j.Start is { } started && started >= from && started <= to)
                foreach (var k in by == UsageGrouping.Day ? new[] { Day(started) } : keys) Row(k).ContainersCreated++;
            if (j.Start is not { } start) continue;
            var a = start < from ? from : start;
            var b = j.End is { } end && end < to ? end : to;
            for (var t = a; t < b;)
            {
                var dayEnd = by == UsageGrouping.Day ? new DateTimeOffset(t.UtcDateTime.Date.AddDays(1), TimeSpan.Zero) : b;
                var e = dayEnd < b ? dayEnd : b;
                var hours = (e - t).TotalHours;
                if (by == UsageGrouping.Gpu && gpus.Count > 0)
                    foreach (var g in gpus)
                    {
                        Row(g.Type).GpuHours += hours * g.Count * Weight(g.Type);
                        Row(g.Type).ContainerHours += hours / gpus.Count;
                    }
                else
                {
                    var row = Row(by == UsageGrouping.Day ? Day(t) : keys[0]);
                    row.GpuHours += hours * gpus.Sum(g => g.Count * Weight(g.Type));
                    row.ContainerHours += hours;
                }
                t = e;
            }
        }
        foreach (var row in rows.Values)
        {
            row.GpuHours = Math.Round(row.GpuHours, 4);
            row.ContainerHours = Math.Round(row.ContainerHours, 4);
        }
        return rows.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    private static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

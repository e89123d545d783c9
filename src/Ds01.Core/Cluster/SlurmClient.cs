using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ds01.Core.Cluster;

/// <summary>A Slurm job as Ds01 needs it: state, why it waits, where it runs and which GPU indices it holds there.</summary>
public sealed record SlurmJob(long JobId, string Name, string User, string State, string Reason, string? Node, IReadOnlyList<int> GpuIndices,
    string Gres, string? Qos, string Partition, DateTimeOffset? SubmitTime, DateTimeOffset? StartTime, string? Cluster = null, long Priority = 0)
{
    public bool IsPending => State == "PENDING";
    public bool IsRunning => State == "RUNNING";
    /// <summary>A state the job never leaves again (COMPLETED, CANCELLED, TIMEOUT, FAILED, NODE_FAIL, ...).</summary>
    public bool IsFinished => !IsPending && !IsRunning && State is not ("CONFIGURING" or "COMPLETING" or "SUSPENDED" or "REQUEUED" or "RESIZING");
}

/// <summary>
/// The Slurm commands Ds01 drives (sbatch, squeue --json, scancel, sacctmgr, sacct): each started directly with its
/// arguments as a list, never through a shell, with SLURM_CONF from cluster.yaml. Slurm itself authenticates the
/// caller (munge carries the kernel's uid), so nothing here can widen what a user may do.
/// </summary>
public sealed class SlurmClient
{
    private readonly ClusterConfig _config;

    public SlurmClient(ClusterConfig config) => _config = config;

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public string Program(string name) => Path.Combine(_config.BinDir ?? "/usr/bin", name);

    public async Task<Result> RunAsync(string program, IEnumerable<string> args, string? stdin, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(Program(program))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (_config.SlurmConf is not null) psi.Environment["SLURM_CONF"] = _config.SlurmConf;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        Process p;
        try { p = Process.Start(psi) ?? throw new InvalidOperationException("no process"); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "SlurmCommandNotFound",
                $"Cannot run {psi.FileName}: {e.Message}", psi.FileName,
                $"Install the Slurm client (slurm-client), or set slurm.bin_dir in {_config.File}.", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync(ct);
            var stderr = p.StandardError.ReadToEndAsync(ct);
            if (stdin is not null) await p.StandardInput.WriteAsync(stdin.AsMemory(), ct).ConfigureAwait(false);
            p.StandardInput.Close();
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
            return new Result(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>Runs a command that must succeed; a failure is a ConnectionError naming the command and Slurm's words.</summary>
    public async Task<string> RequireAsync(string program, IReadOnlyList<string> args, string? stdin, CancellationToken ct, string errorId = "SlurmCommandFailed")
    {
        var r = await RunAsync(program, args, stdin, ct).ConfigureAwait(false);
        if (r.ExitCode == 0) return r.StdOut;
        var words = string.IsNullOrWhiteSpace(r.StdErr) ? r.StdOut.Trim() : r.StdErr.Trim();
        throw new Ds01Exception(Ds01ErrorKind.ConnectionError, errorId,
            $"{program} failed (exit {r.ExitCode}): {words}", program,
            "Check that slurmctld answers (scontrol ping) and that your account exists in Slurm (sacctmgr show assoc).");
    }

    /// <summary>Submits a batch job; the job id.</summary>
    public async Task<long> SubmitAsync(SbatchRequest request, CancellationToken ct)
    {
        var output = await RequireAsync("sbatch", request.Arguments(), SbatchRequest.Script, ct, "SlurmSubmitFailed").ConfigureAwait(false);
        // --parsable: "id" or "id;cluster".
        var first = output.Trim().Split(';')[0];
        return long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id
            : throw new Ds01Exception(Ds01ErrorKind.InvalidData, "SlurmSubmitUnparsed", $"sbatch answered '{output.Trim()}', not a job id.", output);
    }

    public Task CancelAsync(long jobId, CancellationToken ct) =>
        RequireAsync("scancel", new[] { jobId.ToString(CultureInfo.InvariantCulture) }, null, ct, "SlurmCancelFailed");

    /// <summary>Every job slurmctld still knows (squeue --json lists them all; it ignores -j in 22.05).</summary>
    public async Task<IReadOnlyList<SlurmJob>> JobsAsync(CancellationToken ct)
    {
        var json = await RequireAsync("squeue", new[] { "--json" }, null, ct, "SlurmQueueUnreadable").ConfigureAwait(false);
        return ParseSqueue(json);
    }

    public async Task<SlurmJob?> JobAsync(long jobId, CancellationToken ct) =>
        (await JobsAsync(ct).ConfigureAwait(false)).FirstOrDefault(j => j.JobId == jobId);

    private static readonly Regex GresIndex = new(@"\(IDX:([0-9,\-]+)\)", RegexOptions.CultureInvariant);

    /// <summary>Parses `squeue --json` (OpenAPI v0.0.38, Slurm 22.05).</summary>
    public static IReadOnlyList<SlurmJob> ParseSqueue(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var list = new List<SlurmJob>();
        if (!doc.RootElement.TryGetProperty("jobs", out var jobs) || jobs.ValueKind != JsonValueKind.Array) return list;
        foreach (var j in jobs.EnumerateArray())
        {
            var gres = new List<string>();
            if (j.TryGetProperty("gres_detail", out var gd) && gd.ValueKind == JsonValueKind.Array)
                gres.AddRange(gd.EnumerateArray().Select(e => e.GetString() ?? ""));
            var nodes = Str(j, "nodes");
            list.Add(new SlurmJob(
                j.TryGetProperty("job_id", out var id) ? id.GetInt64() : 0,
                Str(j, "name"), Str(j, "user_name"), Str(j, "job_state"), Str(j, "state_reason"),
                string.IsNullOrEmpty(nodes) ? null : nodes,
                gres.SelectMany(Indices).ToList(),
                Str(j, "tres_per_node"), NullIfEmpty(Str(j, "qos")), Str(j, "partition"),
                Time(j, "submit_time"), Time(j, "start_time"), NullIfEmpty(Str(j, "cluster")),
                j.TryGetProperty("priority", out var pr) && pr.ValueKind == JsonValueKind.Number ? pr.GetInt64() : 0));
        }
        return list;
    }

    /// <summary>"gpu:h100:2(IDX:0-1)" → 0, 1; "gpu:3g.40gb:1(IDX:1)" → 1.</summary>
    public static IEnumerable<int> Indices(string gresDetail)
    {
        var m = GresIndex.Match(gresDetail);
        if (!m.Success) yield break;
        foreach (var part in m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0) yield return int.Parse(part, CultureInfo.InvariantCulture);
            else
                for (var i = int.Parse(part[..dash], CultureInfo.InvariantCulture); i <= int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture); i++)
                    yield return i;
        }
    }

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.GetInt64() > 0 ? DateTimeOffset.FromUnixTimeSeconds(v.GetInt64()) : null;
}

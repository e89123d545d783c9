using System.Diagnostics;
using System.Globalization;
using Ds01.Core.Cluster;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// A Slurm cluster whose nodes each have their own ds01d: the real Slurm lab of scripts/slurm-lab.sh (as ClusterTestBed
/// uses it) and ServiceTestBed's real accounts (useradd, outside the docker group, dockerd's socket hidden by
/// ServiceAsUser.sh), with three real ds01d, `--slurm-node n1`, `n2`, `n3`, each on its own socket and all in front of
/// the one test dockerd. cluster.yaml (backend: slurm) in the services' config dir names each node's ds01d socket as
/// its docker_host, so a user's client reaches every node through that node's ds01d only. Alice and Bob are added to
/// Slurm's accounting (account lab) so they can sbatch. On dispose: this run's jobs are cancelled and waited for
/// (the Epilog removes their containers), the services stopped, the Slurm users deleted, then ServiceTestBed cleans up.
/// </summary>
public sealed class ClusterServiceTestBed : IDisposable
{
    public static readonly string[] NodeNames = { "n1", "n2", "n3" };
    private readonly Dictionary<string, Process> _services = new();
    private readonly Dictionary<string, StringWriter> _logs = new();
    private readonly List<string> _slurmUsers = new();

    public ClusterServiceTestBed()
    {
        SlurmConf = Environment.GetEnvironmentVariable("SLURM_CONF") ?? "";
        Assert.True(SlurmConf.Length > 0 && File.Exists(SlurmConf),
            "No Slurm lab: start one with eval \"$(sudo -E scripts/slurm-lab.sh start)\" (it sets SLURM_CONF).");
        var ping = Slurm("sinfo", "-h", "-N", "-o", "%N %t");
        Assert.True(ping.Code == 0, $"The Slurm lab does not answer (sinfo: {ping.Err.Trim()}); see .ci-work/slurm/log.");
        Service = new ServiceTestBed(startService: false);
        try
        {
            foreach (var n in NodeNames) Sockets[n] = Path.Combine(Service.Root, $"{n}.sock");
            var yaml = Path.Combine(Service.ConfigDir, ClusterConfig.FileName);
            File.WriteAllText(yaml,
                "backend: slurm\n" +
                "slurm:\n" +
                "  partition: lab\n" +
                $"  slurm_conf: {SlurmConf}\n" +
                "  start_wait_seconds: 30\n" +
                "  poll_seconds: 0.3\n" +
                "  nodes:\n" +
                string.Concat(NodeNames.Select(n => $"    - {{ name: {n}, docker_host: \"unix://{Sockets[n]}\" }}\n")));
            File.SetUnixFileMode(yaml, (UnixFileMode)0b110_100_100);
            foreach (var n in NodeNames)
            {
                _services[n] = Service.StartService(Sockets[n], out var log, "--slurm-node", n);
                _logs[n] = log;
            }
            foreach (var a in new[] { Alice, Bob })
            {
                var add = Slurm("sacctmgr", "-i", "add", "user", $"name={a.Name}", "account=lab");
                Assert.True(add.Code == 0, $"sacctmgr add user {a.Name}: {add.Out}{add.Err}");
                _slurmUsers.Add(a.Name);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ServiceTestBed Service { get; }
    public string SlurmConf { get; }
    public Dictionary<string, string> Sockets { get; } = new();
    public ServiceTestBed.Account Alice => Service.Alice;
    public ServiceTestBed.Account Bob => Service.Bob;
    public string RunId => Service.RunId;
    public string Name(string stem) => Service.Name(stem);

    public string Log(string node)
    {
        lock (_logs[node]) return _logs[node].ToString();
    }

    /// <summary>A Ds01 script as the account, its client talking to <paramref name="node"/>'s ds01d.</summary>
    public ServiceTestBed.Result Ds01(ServiceTestBed.Account a, string script, string node = "n1") =>
        Service.Ds01(a, script, new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix://" + Sockets[node] });

    /// <summary>A raw Docker API request as the account to one node's ds01d (curl; the last line is "HTTP status").</summary>
    public ServiceTestBed.Result Curl(ServiceTestBed.Account a, string node, string method, string path, string? body = null)
    {
        var args = new List<string> { "-s", "-o", "-", "-w", "\nHTTP %{http_code}", "--unix-socket", Sockets[node], "-X", method, "http://ds01" + path };
        if (body is not null) args.AddRange(new[] { "-H", "Content-Type: application/json", "--data-binary", "@-" });
        return Service.As(a, "curl", args, stdin: body);
    }

    /// <summary>sbatch as the account, as New-Ds01Container submits (job name ds01:&lt;tag&gt;, a script that only holds the allocation); the job id.</summary>
    public long Submit(ServiceTestBed.Account a, string tag, string? gres, string? node = null)
    {
        var args = new List<string> { "--parsable", $"--job-name=ds01:{tag}", "--partition=lab", "--nodes=1", "--ntasks=1", "--mem=256M",
            "--output=/dev/null", "--error=/dev/null", "--chdir=/", "--export=NONE" };
        if (gres is not null) args.Add($"--gres={gres}");
        if (node is not null) args.Add($"--nodelist={node}");
        var r = Service.As(a, "sbatch", args, new Dictionary<string, string?> { ["SLURM_CONF"] = SlurmConf }, SbatchRequest.Script);
        Assert.True(r.Code == 0, $"sbatch as {a.Name}: {r.All}");
        var id = long.Parse(r.Out.Trim().Split(';')[0], CultureInfo.InvariantCulture);
        ClusterTestBed.WaitUntil(() => Jobs().FirstOrDefault(j => j.JobId == id) is { IsRunning: true }, $"job {id} runs");
        return id;
    }

    public (int Code, string Out, string Err) Slurm(string program, params string[] args) => ClusterTestBed.RunSlurm(SlurmConf, program, args);

    public IReadOnlyList<SlurmJob> Jobs() => SlurmClient.ParseSqueue(Slurm("squeue", "--json").Out);

    public SlurmJob Job(long id) => Jobs().Single(j => j.JobId == id);

    /// <summary>This run's jobs (their names carry the run id).</summary>
    public IReadOnlyList<SlurmJob> MyJobs() => Jobs().Where(j => j.Name.Contains(RunId, StringComparison.Ordinal)).ToList();

    public SlurmJob JobOf(string tag) => Jobs().Where(j => j.Name == "ds01:" + tag).OrderByDescending(j => j.JobId).First();

    /// <summary>Cancels this run's jobs that still live and waits until they ended (their Epilogs removed their containers).</summary>
    public void EndMyJobs()
    {
        foreach (var j in MyJobs().Where(j => !j.IsFinished)) Slurm("scancel", j.JobId.ToString(CultureInfo.InvariantCulture));
        ClusterTestBed.WaitUntil(() => MyJobs().All(j => j.IsFinished), "this run's jobs ended", 60);
    }

    public void Dispose()
    {
        try
        {
            EndMyJobs();
        }
        finally
        {
            foreach (var s in _services.Values)
                try { ServiceTestBed.Stop(s); } catch (Exception) { }
            foreach (var u in _slurmUsers) Slurm("sacctmgr", "-i", "delete", "user", $"name={u}");
            Service.Dispose();
        }
    }
}

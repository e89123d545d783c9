using System.Diagnostics;
using Ds01.Core.Cluster;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// The real Slurm lab of scripts/slurm-lab.sh (SLURM_CONF from `slurm-lab.sh env`; three nodes n1, n2 with
/// gpu:h100:2, n3 with gpu:3g.40gb:2) in front of the real test dockerd, which all three nodes share, so every node's
/// docker_host is DOCKER_HOST. A lab that does not answer fails the test: cluster tests never skip. On dispose every
/// job this test submitted is cancelled and the test's Slurm users are deleted, then the DockerTestBed cleans up.
/// </summary>
public sealed class ClusterTestBed : IDisposable
{
    private readonly List<string> _slurmUsers = new();

    public ClusterTestBed(string? extraLimits = null, string? extraDefaults = null, double startWaitSeconds = 10)
    {
        SlurmConf = Environment.GetEnvironmentVariable("SLURM_CONF") ?? "";
        Assert.True(SlurmConf.Length > 0 && File.Exists(SlurmConf),
            "No Slurm lab: start one with eval \"$(sudo -E scripts/slurm-lab.sh start)\" (it sets SLURM_CONF).");
        var ping = Slurm("sinfo", "-h", "-N", "-o", "%N %t");
        Assert.True(ping.Code == 0, $"The Slurm lab does not answer (sinfo: {ping.Err.Trim()}); see .ci-work/slurm/log.");
        Docker = new DockerTestBed(extraLimits, extraDefaults: extraDefaults);
        // No NVIDIA runtime here: the job's GPU indices reach the container as labels and environment only.
        Docker.Config.Write("gpu-config.yaml", "attach: simulated\n");
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "unix:///var/run/docker.sock";
        Docker.Config.Write(ClusterConfig.FileName,
            "backend: slurm\n" +
            "slurm:\n" +
            "  partition: lab\n" +
            $"  slurm_conf: {SlurmConf}\n" +
            "  qos: { normal: 0, high: 80 }\n" +
            $"  start_wait_seconds: {startWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n" +
            "  poll_seconds: 0.3\n" +
            "  nodes:\n" +
            string.Concat(new[] { "n1", "n2", "n3" }.Select(n => $"    - {{ name: {n}, docker_host: \"{host}\" }}\n")));
    }

    public DockerTestBed Docker { get; }
    public string SlurmConf { get; }

    public PsResult Run(string script) => Docker.Run(script);

    /// <summary>Remembers a user whose Slurm association this test creates (Sync-Ds01SlurmAccount), to delete it afterwards.</summary>
    public void Track(string user)
    {
        if (!_slurmUsers.Contains(user)) _slurmUsers.Add(user);
    }

    public (int Code, string Out, string Err) Slurm(string program, params string[] args) => RunSlurm(SlurmConf, program, args);

    /// <summary>A Slurm command as root against the lab of <paramref name="slurmConf"/> (shared with ClusterServiceTestBed).</summary>
    public static (int Code, string Out, string Err) RunSlurm(string slurmConf, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["SLURM_CONF"] = slurmConf;
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }

    public IReadOnlyList<SlurmJob> Jobs() => SlurmClient.ParseSqueue(Slurm("squeue", "--json").Out);

    /// <summary>This test's jobs (named ds01:&lt;tag&gt; with the run id in the tag).</summary>
    public IReadOnlyList<SlurmJob> MyJobs() => Jobs().Where(j => j.Name.Contains(Docker.RunId, StringComparison.Ordinal)).ToList();

    public SlurmJob JobOf(string tag) => Jobs().Where(j => j.Name == "ds01:" + tag).OrderByDescending(j => j.JobId).First();

    /// <summary>Waits (generously: the lab shares two cores with builds) until the condition holds.</summary>
    public static void WaitUntil(Func<bool> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {seconds} s waiting until {what}.");
            Thread.Sleep(300);
        }
    }

    public void Dispose()
    {
        try
        {
            foreach (var j in MyJobs().Where(j => !j.IsFinished)) Slurm("scancel", j.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // The Epilogs remove the containers; waiting for the jobs to end leaves the GRES free for the next test.
            WaitUntil(() => MyJobs().All(j => j.IsFinished), "this test's jobs ended", 60);
        }
        finally
        {
            foreach (var u in _slurmUsers) Slurm("sacctmgr", "-i", "delete", "user", $"name={u}");
            Docker.Dispose();
        }
    }
}

using System.Globalization;
using Ds01.Core.Cluster;
using Ds01.Core.Containers;
using Ds01.Core.Events;
using Ds01.Core.Gpu;
using Ds01.Core.Maintenance;
using Ds01.Core.Status;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// Operating containers that run as Slurm jobs, against the real Slurm lab (scripts/slurm-lab.sh) and the real
/// dockerd: the GPU hold after stop is the job staying alive, the status shows every node, usage comes from
/// Slurm's accounting, and -Open reaches the container through its node's endpoint.
/// </summary>
[Collection("engine")]
public class ClusterOperationsTests
{
    private const string Busybox = DockerTestBed.BusyboxImage;

    private static Ds01Container Created(PsResult r)
    {
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e.Exception.Message}")));
        return Assert.Single(r.Objects<Ds01Container>());
    }

    private static void NoErrors(PsResult r) =>
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e.Exception.Message}")));

    private static string Id(long job) => job.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void A_stopped_GPU_container_keeps_its_job_through_the_hold_and_maintenance_ends_the_job_after_it()
    {
        // A 30-second hold: long enough to start again within it, short enough to see it end.
        using var bed = new ClusterTestBed(extraDefaults: "gpu_hold_after_stop_minutes: 0.5");
        var held = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("held")} -Image {Busybox} -Gpu h100 -PassThru"));
        var cpu = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("cpu")} -Image {Busybox} -GpuCount 0 -PassThru"));
        var job = bed.JobOf(held.Tag);
        var cpuJob = bed.JobOf(cpu.Tag).JobId;

        NoErrors(bed.Run($"Stop-Ds01Container {held.Name} -Force"));
        var stopped = bed.Docker.Inspect(held.Tag)!;
        Assert.False(stopped.State!.Running);
        // The job, and with it the GRES on that node, stays: Slurm still counts the GPU as this container's.
        var kept = bed.Jobs().Single(j => j.JobId == job.JobId);
        Assert.Equal("RUNNING", kept.State);
        Assert.Equal(job.GpuIndices, kept.GpuIndices);
        var slot = Assert.Single(bed.Run("Get-Ds01Gpu").Objects<Ds01GpuSlot>(), s => s.Container == held.Name);
        Assert.Equal($"{held.Node}:{held.Gpu}", slot.Slot);
        Assert.Equal(GpuSlotState.Allocated, slot.State);

        // Nothing to hold without GPUs: that stop ends the job at once, and the Epilog removes the container.
        NoErrors(bed.Run($"Stop-Ds01Container {cpu.Name} -Force"));
        ClusterTestBed.WaitUntil(() => bed.Jobs().FirstOrDefault(j => j.JobId == cpuJob) is not { IsFinished: false }, $"CPU-only job {cpuJob} ended", 60);
        ClusterTestBed.WaitUntil(() => bed.Docker.Inspect(cpu.Tag) is null, "the Epilog removed the CPU-only container", 60);

        // Within the hold: the same container starts again, on the same node and GPU, in the same job.
        var again = Created(bed.Run($"Start-Ds01Container {held.Name} -PassThru"));
        Assert.Equal(ContainerState.Running, again.State);
        Assert.Equal(held.Node, again.Node);
        Assert.Equal(held.Gpu, again.Gpu);
        Assert.Equal(Id(job.JobId), bed.Docker.Inspect(held.Tag)!.Config!.Labels[ClusterLabels.Job]);
        Assert.Equal("RUNNING", bed.Jobs().Single(j => j.JobId == job.JobId).State);

        NoErrors(bed.Run($"Stop-Ds01Container {held.Name} -Force"));
        var finished = DateTimeOffset.Parse(bed.Docker.Inspect(held.Tag)!.State!.FinishedAt, CultureInfo.InvariantCulture);
        // Maintenance within the hold leaves the job alone.
        var early = bed.Run("Invoke-Ds01Maintenance -Task GpuHold");
        NoErrors(early);
        Assert.DoesNotContain(early.Objects<Ds01MaintenanceAction>(), a => a.Target == held.Tag);
        Assert.Equal("RUNNING", bed.Jobs().Single(j => j.JobId == job.JobId).State);

        var wait = finished + TimeSpan.FromSeconds(31) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
        var late = bed.Run("Invoke-Ds01Maintenance -Task GpuHold");
        NoErrors(late);
        var end = Assert.Single(late.Objects<Ds01MaintenanceAction>(), a => a.Target == held.Tag);
        Assert.Equal(MaintenanceActionKind.EndJob, end.Action);
        Assert.True(end.Done, end.Error);
        Assert.Equal(job.JobId, end.Job);
        ClusterTestBed.WaitUntil(() => bed.Jobs().FirstOrDefault(j => j.JobId == job.JobId) is not { IsFinished: false }, $"job {job.JobId} ended", 60);
        ClusterTestBed.WaitUntil(() => bed.Docker.Inspect(held.Tag) is null, "the Epilog removed the container after its hold", 60);
        Assert.Contains("\"job-ended\"", File.ReadAllText(bed.Docker.Config.EventLogFile));
    }

    [Fact]
    public void Remove_of_a_stopped_GPU_container_in_its_hold_ends_the_job_at_once()
    {
        using var bed = new ClusterTestBed(extraDefaults: "gpu_hold_after_stop_minutes: 30");
        var c = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("gone")} -Image {Busybox} -Gpu h100 -PassThru"));
        var job = bed.JobOf(c.Tag).JobId;
        NoErrors(bed.Run($"Stop-Ds01Container {c.Name} -Force"));
        Assert.Equal("RUNNING", bed.Jobs().Single(j => j.JobId == job).State);

        NoErrors(bed.Run($"Remove-Ds01Container {c.Name} -Force"));
        Assert.Null(bed.Docker.Inspect(c.Tag));
        ClusterTestBed.WaitUntil(() => bed.Jobs().FirstOrDefault(j => j.JobId == job) is not { IsFinished: false }, $"job {job} ended", 60);
    }

    [Fact]
    public void The_system_status_shows_every_node_from_Slurm_and_its_endpoint_and_fits_80_columns()
    {
        using var bed = new ClusterTestBed();
        var h100 = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("st1")} -Image {Busybox} -Gpu h100 -PassThru"));
        var mig = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("st2")} -Image {Busybox} -Gpu 3g.40gb -PassThru"));
        Assert.Equal("n3", mig.Node);

        var r = bed.Run("Get-Ds01SystemStatus");
        NoErrors(r);
        var status = Assert.Single(r.Objects<Ds01SystemStatus>());
        Assert.Empty(status.Problems);
        Assert.Equal(3, status.NodeCount);
        Assert.Equal(new[] { "n1", "n2", "n3" }, status.Nodes.Select(n => n.Name));
        // Slurm's GRES over all nodes: 2 + 2 h100 and two 3g.40gb MIG slices (3/7 each); this test holds one of each.
        Assert.Equal(6, status.SlotsTotal);
        Assert.Equal(2, status.SlotsInUse);
        Assert.Equal(Math.Round(4 + 6 / 7.0, 3), status.GpuEquivalentsTotal);
        Assert.Equal(Math.Round(1 + 3 / 7.0, 3), status.GpuEquivalentsAllocated);
        var nodes = status.Nodes.ToDictionary(n => n.Name);
        var idle = new[] { "n1", "n2" }.Single(n => n != h100.Node);
        Assert.Equal((1, 2, 1, 1), (nodes[h100.Node!].SlotsInUse, nodes[h100.Node!].SlotsTotal, nodes[h100.Node!].ContainersRunning, nodes[h100.Node!].ContainersTotal));
        Assert.Equal((1, 2, 1), (nodes["n3"].SlotsInUse, nodes["n3"].SlotsTotal, nodes["n3"].ContainersRunning));
        Assert.Equal((0, 0, 0), (nodes[idle].SlotsInUse, nodes[idle].ContainersTotal, nodes[idle].CpusAllocated));
        Assert.Equal("idle", nodes[idle].State);
        Assert.True(nodes[h100.Node!].CpusAllocated > 0);
        Assert.Equal(h100.Node, status.Containers.Single(c => c.Name == h100.Name).Node);
        Assert.Equal("n3", status.Containers.Single(c => c.Name == mig.Name).Node);

        // The default view gains only a Nodes column; the per-node rows have a view of their own. Both fit 80 columns.
        var table = string.Concat(bed.Run("Get-Ds01SystemStatus | Out-String -Width 80").Output.Select(o => o.BaseObject)).Split('\n');
        Assert.All(table, l => Assert.True(l.TrimEnd('\r').Length <= 80, $"wider than 80 columns: '{l}'"));
        Assert.Contains(table, l => l.Contains("Nodes", StringComparison.Ordinal) && l.Contains("GPUs", StringComparison.Ordinal));
        var rows = bed.Run("Get-Ds01SystemStatus -Node");
        NoErrors(rows);
        Assert.Equal(new[] { "n1", "n2", "n3" }, rows.Objects<Ds01StatusNode>().Select(n => n.Name));
        var nodeTable = string.Concat(bed.Run("Get-Ds01SystemStatus -Node | Out-String -Width 80").Output.Select(o => o.BaseObject)).Split('\n');
        Assert.All(nodeTable, l => Assert.True(l.TrimEnd('\r').Length <= 80, $"wider than 80 columns: '{l}'"));
        Assert.Contains(nodeTable, l => l.StartsWith("n3 ", StringComparison.Ordinal) && l.Contains("0.43/0.86", StringComparison.Ordinal) && l.Contains("1/2", StringComparison.Ordinal));

        // A node whose Docker endpoint does not answer is a problem named in the status, not a failed status.
        var config = File.ReadAllText(Path.Combine(bed.Docker.Config.ConfigDir, ClusterConfig.FileName));
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "unix:///var/run/docker.sock";
        var dead = $"unix://{Path.Combine(bed.Docker.Config.Root, "no-such-node.sock")}";
        bed.Docker.Config.Write(ClusterConfig.FileName, config.Replace($"{{ name: {idle}, docker_host: \"{host}\" }}", $"{{ name: {idle}, docker_host: \"{dead}\" }}", StringComparison.Ordinal));
        var partial = bed.Run("Get-Ds01SystemStatus");
        NoErrors(partial);
        var p = Assert.Single(partial.Objects<Ds01SystemStatus>());
        Assert.Contains(p.Problems, m => m.StartsWith($"Node {idle}: Docker endpoint {dead}", StringComparison.Ordinal));
        Assert.Contains(dead, p.Nodes.Single(n => n.Name == idle).Problem);
        Assert.Equal("", p.Nodes.Single(n => n.Name == "n3").Problem);
        Assert.Equal(2, p.SlotsInUse);
    }

    [Fact]
    public void The_usage_report_reads_GPU_hours_from_Slurm_accounting_for_jobs_that_ran()
    {
        using var bed = new ClusterTestBed(extraLimits: "users:\n  games:\n    gpu_limit: 4\n    max_gpus_per_container: 4\n");
        bed.Track("games");
        NoErrors(bed.Run("Sync-Ds01SlurmAccount"));
        var since = DateTimeOffset.UtcNow.AddSeconds(-2);

        // Two h100s for a few seconds, then one 3g.40gb MIG slice (3/7 of a GPU) for a few seconds.
        var two = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("acct2")} -Image {Busybox} -Gpu h100 -GpuCount 2 -User games -PassThru"));
        var twoJob = bed.JobOf(two.Tag).JobId;
        Thread.Sleep(6000);
        NoErrors(bed.Run($"Remove-Ds01Container {two.Name} -User games -Stop -Force"));
        var mig = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("acctm")} -Image {Busybox} -Gpu 3g.40gb -User games -PassThru"));
        var migJob = bed.JobOf(mig.Tag).JobId;
        Thread.Sleep(4000);
        NoErrors(bed.Run($"Remove-Ds01Container {mig.Name} -User games -Stop -Force"));

        // slurmdbd records the end a moment after the job ends; its own numbers are what the report must match.
        Dictionary<long, (double Seconds, string Tres)> Recorded()
        {
            var o = bed.Slurm("sacct", "-X", "-P", "-n", "-o", "JobID,ElapsedRaw,AllocTRES,State", "-j", $"{twoJob},{migJob}").Out;
            return o.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|'))
                .Where(f => f.Length >= 4 && !f[3].StartsWith("RUNNING", StringComparison.Ordinal) && f[1].Length > 0)
                .ToDictionary(f => long.Parse(f[0], CultureInfo.InvariantCulture), f => (double.Parse(f[1], CultureInfo.InvariantCulture), f[2]));
        }
        ClusterTestBed.WaitUntil(() => Recorded().Count == 2, "sacct recorded both jobs' ends", 60);
        var recorded = Recorded();
        Assert.Contains("gres/gpu:h100=2", recorded[twoJob].Tres);
        Assert.Contains("gres/gpu:3g.40gb=1", recorded[migJob].Tres);
        var until = DateTimeOffset.UtcNow.AddSeconds(2);
        string Window(string by) => $"Get-Ds01UsageReport {by} -Since '{since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}' -Until '{until.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'";

        // backend: slurm reads sacct without being asked.
        var byUser = bed.Run(Window("User"));
        NoErrors(byUser);
        var games = Assert.Single(byUser.Objects<Ds01UsageSummary>(), u => u.Name == "games");
        var expected = (2 * recorded[twoJob].Seconds + 3 / 7.0 * recorded[migJob].Seconds) / 3600;
        Assert.Equal(expected, games.GpuHours, 3);
        Assert.Equal((recorded[twoJob].Seconds + recorded[migJob].Seconds) / 3600, games.ContainerHours, 3);
        Assert.Equal(2, games.ContainersCreated);
        // The jobs really ran as long as the test kept them (6 s and 4 s, plus the create and remove around them).
        Assert.InRange(recorded[twoJob].Seconds, 6, 60);
        Assert.InRange(recorded[migJob].Seconds, 4, 60);

        var byGpu = bed.Run(Window("Gpu") + " -Source Slurm").Objects<Ds01UsageSummary>().ToDictionary(u => u.Name);
        Assert.Equal(2 * recorded[twoJob].Seconds / 3600, byGpu["h100"].GpuHours, 3);
        Assert.Equal(3 / 7.0 * recorded[migJob].Seconds / 3600, byGpu["3g.40gb"].GpuHours, 3);

        // The window cuts: the first three seconds of the two-GPU job are 6 GPU-seconds, whatever ran before or after.
        // sacct prints local time, as this process's zone reads it.
        var started = new DateTimeOffset(DateTime.Parse(bed.Slurm("sacct", "-X", "-P", "-n", "-o", "Start", "-j", Id(twoJob)).Out.Trim(),
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal));
        var cut = bed.Run($"Get-Ds01UsageReport -Since '{started.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}' -Until '{started.AddSeconds(3).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'");
        NoErrors(cut);
        Assert.Equal(6 / 3600.0, Assert.Single(cut.Objects<Ds01UsageSummary>(), u => u.Name == "games").GpuHours, 4);

        // -Path is an event log, which Slurm's accounting is not: refused with a specific error.
        var both = bed.Run("Get-Ds01UsageReport -Source Slurm -Path /tmp/x.jsonl");
        Assert.Equal("UsagePathWithSlurm,Ds01.PowerShell.Cmdlets.GetDs01UsageReportCommand", both.SingleError().FullyQualifiedErrorId);
    }

    [Fact]
    public void Deploy_Open_on_a_cluster_enters_the_container_through_its_nodes_endpoint()
    {
        using var bed = new ClusterTestBed();
        var name = bed.Docker.Name("open");
        var env = new Dictionary<string, string?>(bed.Docker.Env)
        {
            // This server's own endpoint answers nothing: the create and the shell must both go to the node's docker_host.
            ["DOCKER_HOST"] = $"unix://{Path.Combine(bed.Docker.Config.Root, "no-local-docker.sock")}",
        };
        using var tmux = new TerminalTests.Tmux();
        tmux.Start(env, "-c", $"Deploy-Ds01Container {name} -Image {Busybox} -GpuCount 0 -Open -Shell /bin/sh");
        tmux.WaitFor("built-in shell", 180);
        var tag = bed.Docker.Tag("open");
        var job = bed.JobOf(tag).JobId;
        // The shell is in the cluster container: it sees its Slurm job id.
        tmux.Keys("echo \"inside-job-$SLURM_JOB_ID\"", "Enter");
        tmux.WaitFor($"inside-job-{job}", 60);
        tmux.Keys("exit", "Enter");
        var screen = tmux.WaitFor("ds01-exit=", 60);
        Assert.Contains("ds01-exit=0", screen);
        Assert.Contains($"You left {name}", screen);
        Assert.True(bed.Docker.Inspect(tag)!.State!.Running);
    }
    [Fact]
    public void Start_Stop_Remove_and_Enter_act_through_the_nodes_endpoint_when_this_servers_Docker_does_not_answer()
    {
        using var bed = new ClusterTestBed(extraDefaults: "gpu_hold_after_stop_minutes: 30");
        // One container on an h100 node (n1 or n2), one on the MIG node n3: two nodes.
        var a = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("ep1")} -Image {Busybox} -Gpu h100 -PassThru"));
        var b = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("ep2")} -Image {Busybox} -Gpu 3g.40gb -PassThru"));
        Assert.Equal("n3", b.Node);
        Assert.NotEqual(a.Node, b.Node);
        var jobA = bed.JobOf(a.Tag).JobId;
        var dead = $"unix://{Path.Combine(bed.Docker.Config.Root, "no-local-docker.sock")}";
        // This server's own endpoint answers nothing: every action must go to the node's docker_host (cluster.yaml).
        var env = new Dictionary<string, string?>(bed.Docker.Env) { ["DOCKER_HOST"] = dead };
        PsResult Remote(string script) => PsEngine.Run(script, env);

        NoErrors(Remote($"Stop-Ds01Container {a.Name} -Force"));
        Assert.False(bed.Docker.Inspect(a.Tag)!.State!.Running);
        Assert.Equal("RUNNING", bed.Jobs().Single(j => j.JobId == jobA).State);
        var started = Created(Remote($"Start-Ds01Container {a.Name} -PassThru"));
        Assert.Equal(ContainerState.Running, started.State);
        Assert.True(bed.Docker.Inspect(a.Tag)!.State!.Running);

        using (var tmux = new TerminalTests.Tmux())
        {
            tmux.Start(env, "-c", $"Enter-Ds01Container {a.Name} -Shell /bin/sh");
            tmux.WaitFor("built-in shell", 180);
            tmux.Keys("echo \"inside-job-$SLURM_JOB_ID\"", "Enter");
            tmux.WaitFor($"inside-job-{jobA}", 60);
            tmux.Keys("exit", "Enter");
            Assert.Contains("ds01-exit=0", tmux.WaitFor("ds01-exit=", 60));
        }

        // Piped across nodes: each Ds01Container's Node picks its endpoint.
        var piped = bed.Run($"$cs = Get-Ds01Container | Where-Object Name -in '{a.Name}','{b.Name}'; $env:DOCKER_HOST = '{dead}'; $cs | Stop-Ds01Container -Force -PassThru");
        NoErrors(piped);
        Assert.Equal(new[] { a.Name, b.Name }.Order(), piped.Objects<Ds01Container>().Select(c => c.Name).Order());
        Assert.All(piped.Objects<Ds01Container>(), c => Assert.Equal(ContainerState.Stopped, c.State));
        Assert.False(bed.Docker.Inspect(b.Tag)!.State!.Running);

        // A name no endpoint that answers has, and a node cluster.yaml does not list: specific errors, nothing changed.
        Assert.Equal("ContainerNodeUnreachable,Ds01.PowerShell.Cmdlets.StopDs01ContainerCommand",
            Remote($"Stop-Ds01Container {bed.Docker.Name("nosuch")} -Force").SingleError().FullyQualifiedErrorId);
        Assert.Equal("UnknownNode,Ds01.PowerShell.Cmdlets.RemoveDs01ContainerCommand",
            Remote($"Remove-Ds01Container {b.Name} -Node n9 -Force").SingleError().FullyQualifiedErrorId);
        Assert.NotNull(bed.Docker.Inspect(b.Tag));

        NoErrors(Remote($"Remove-Ds01Container {a.Name} -Force"));
        Assert.Null(bed.Docker.Inspect(a.Tag));
        ClusterTestBed.WaitUntil(() => bed.Jobs().FirstOrDefault(j => j.JobId == jobA) is not { IsFinished: false }, $"job {jobA} ended", 60);
    }
}

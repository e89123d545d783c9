using Ds01.Core.Cluster;
using Ds01.Core.Containers;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// New-Ds01Container and friends with backend: slurm against the real Slurm lab (scripts/slurm-lab.sh) and the real
/// dockerd: Slurm decides where and when, Ds01 runs the container there and ends the job with it.
/// </summary>
[Collection("engine")]
public class ClusterTests
{
    private const string Busybox = DockerTestBed.BusyboxImage;

    private static Ds01Container Created(PsResult r)
    {
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e.Exception.Message}")));
        return Assert.Single(r.Objects<Ds01Container>());
    }

    [Fact]
    public void Containers_land_on_another_node_when_one_fills_and_one_list_shows_every_node()
    {
        using var bed = new ClusterTestBed();
        var made = Enumerable.Range(0, 3)
            .Select(i => Created(bed.Run($"New-Ds01Container {bed.Docker.Name($"spread{i}")} -Image {Busybox} -Gpu h100 -PassThru")))
            .ToList();

        Assert.All(made, c => Assert.Equal(ContainerState.Running, c.State));
        Assert.All(made, c => Assert.Contains(c.Node, new[] { "n1", "n2" }));
        // Two h100s per node: the third container cannot share a node with both others.
        Assert.Equal(2, made.Select(c => c.Node).Distinct().Count());
        Assert.True(made.GroupBy(c => c.Node).All(g => g.Count() <= 2));
        // No node hands one GPU index to two containers, and the container sees what Slurm allocated.
        Assert.All(made.GroupBy(c => c.Node), g => Assert.Equal(g.Count(), g.Select(c => c.Gpu).Distinct().Count()));
        foreach (var c in made)
        {
            var inspect = bed.Docker.Inspect(c.Tag)!;
            Assert.Contains($"CUDA_VISIBLE_DEVICES={c.Gpu}", inspect.Config!.Env);
            var job = bed.JobOf(c.Tag);
            Assert.Equal("RUNNING", job.State);
            Assert.Equal(c.Node, job.Node);
            Assert.Equal(job.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture), inspect.Config.Labels[ClusterLabels.Job]);
            Assert.Equal(new[] { int.Parse(c.Gpu, System.Globalization.CultureInfo.InvariantCulture) }, job.GpuIndices);
        }

        var listed = bed.Run("Get-Ds01Container").Objects<Ds01Container>().Where(c => c.Name.Contains(bed.Docker.RunId, StringComparison.Ordinal)).ToList();
        Assert.Equal(made.Select(c => (c.Name, c.Node)).OrderBy(x => x.Name), listed.Select(c => (c.Name, c.Node)).OrderBy(x => x.Name));

        // Remove ends the job: its GRES is free again and the container is gone.
        var first = made[0];
        var firstJob = bed.JobOf(first.Tag).JobId;
        Assert.Empty(bed.Run($"Remove-Ds01Container {first.Name} -Stop -Force").Errors);
        Assert.Null(bed.Docker.Inspect(first.Tag));
        ClusterTestBed.WaitUntil(() => bed.Jobs().FirstOrDefault(j => j.JobId == firstJob) is not { IsFinished: false }, $"job {firstJob} ended");
    }

    [Fact]
    public void A_user_over_their_GrpTRES_waits_and_is_not_double_booked()
    {
        using var bed = new ClusterTestBed(extraLimits: "users:\n  games:\n    gpu_limit: 1\n    priority: 50\n");
        bed.Track("games");
        var sync = bed.Run("Sync-Ds01SlurmAccount -PassThru");
        Assert.Empty(sync.Errors);
        Assert.Contains(sync.Objects<Ds01SlurmAccountChange>(), c => c.Target == "games" && c.Applied && c.Command.Contains("GrpTRES=gres/gpu=1", StringComparison.Ordinal));
        Assert.Contains("gres/gpu=1", bed.Slurm("sacctmgr", "-n", "-P", "show", "assoc", "where", "user=games", "format=grptres").Out);
        // Now in line with the file: nothing left to change.
        Assert.Empty(bed.Run("Sync-Ds01SlurmAccount -WhatIf").Objects<Ds01SlurmAccountChange>());

        var one = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("quota1")} -Image {Busybox} -Gpu h100 -User games -PassThru"));
        Assert.Equal("games", one.User);

        var second = bed.Run($"New-Ds01Container {bed.Docker.Name("quota2")} -Image {Busybox} -Gpu h100 -User games -PassThru");
        var error = second.SingleError();
        Assert.Equal("ClusterQuotaReached,Ds01.PowerShell.Cmdlets.NewDs01ContainerCommand", error.FullyQualifiedErrorId);
        Assert.Contains("AssocGrpGRES", error.Exception.Message);
        // Three h100s were free, so only the user's limit held it back; nothing was made and the job is gone.
        Assert.DoesNotContain(bed.Run("Get-Ds01Container -AllUsers").Objects<Ds01Container>(), c => c.Name == bed.Docker.Name("quota2"));
        ClusterTestBed.WaitUntil(() => bed.MyJobs().Count(j => !j.IsFinished) == 1, "only the first job is left");
        Assert.Equal("games", Assert.Single(bed.MyJobs(), j => !j.IsFinished).User);
    }

    [Fact]
    public void A_high_priority_request_starts_first()
    {
        using var bed = new ClusterTestBed(extraLimits: "users:\n  games:\n    priority: 50\n    gpu_limit: 4\n  man:\n    priority: 90\n    gpu_limit: 4\n");
        bed.Track("games");
        bed.Track("man");
        Assert.Empty(bed.Run("Sync-Ds01SlurmAccount").Errors);
        var fillers = Enumerable.Range(0, 4)
            .Select(i => Created(bed.Run($"New-Ds01Container {bed.Docker.Name($"fill{i}")} -Image {Busybox} -Gpu h100 -PassThru"))).ToList();

        // Both waits run at once in this process: set the environment once for both engines.
        var saved = bed.Docker.Env.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        foreach (var (k, v) in bed.Docker.Env) Environment.SetEnvironmentVariable(k, v);
        try
        {
            var low = Task.Run(() => PsEngine.Run($"New-Ds01Container {bed.Docker.Name("low")} -Image {Busybox} -Gpu h100 -User games -Wait -TimeoutSec 300 -PassThru"));
            ClusterTestBed.WaitUntil(() => bed.MyJobs().Any(j => j.User == "games" && j.IsPending), "the low-priority job is pending");
            var high = Task.Run(() => PsEngine.Run($"New-Ds01Container {bed.Docker.Name("high")} -Image {Busybox} -Gpu h100 -User man -Wait -TimeoutSec 300 -PassThru"));
            ClusterTestBed.WaitUntil(() => bed.MyJobs().Any(j => j.User == "man" && j.IsPending), "the high-priority job is pending");
            Assert.Equal("high", bed.MyJobs().Single(j => j.User == "man").Qos);
            // The queue is Slurm's: both requests, the high-priority one first, each with Slurm's reason.
            var queued = bed.Run("Get-Ds01GpuAllocation -Queued").Objects<Ds01.Core.Gpu.Ds01GpuAllocation>()
                .Where(a => a.Container.Contains(bed.Docker.RunId, StringComparison.Ordinal)).ToList();
            Assert.Equal(new[] { "man", "games" }, queued.Select(a => a.User));
            Assert.All(queued, a => Assert.False(string.IsNullOrEmpty(a.Reason)));
            Assert.All(queued, a => Assert.Equal("gpu:h100:1", a.Slots));

            Assert.Empty(bed.Run($"Remove-Ds01Container {fillers[0].Name} -Stop -Force").Errors);
            Assert.True(high.Wait(TimeSpan.FromSeconds(240)), "the high-priority request did not start");
            var highMade = Created(high.Result);
            Assert.Equal("man", highMade.User);
            // The one free GPU went to the later, higher-priority request; the earlier one still waits.
            Assert.False(low.IsCompleted);
            Assert.True(bed.MyJobs().Single(j => j.User == "games" && !j.IsFinished).IsPending);

            Assert.Empty(bed.Run($"Remove-Ds01Container {fillers[1].Name} -Stop -Force").Errors);
            Assert.True(low.Wait(TimeSpan.FromSeconds(240)), "the low-priority request did not start after a second GPU freed");
            Assert.Equal("games", Created(low.Result).User);
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }

    [Fact]
    public void Scancel_and_the_time_limit_leave_no_container_behind()
    {
        // 0.016 h is one minute: Slurm's time limit, rounded up to whole minutes.
        using var bed = new ClusterTestBed(extraLimits: "users:\n  games:\n    max_runtime_hours: 0.016\n");
        bed.Track("games");
        Assert.Empty(bed.Run("Sync-Ds01SlurmAccount").Errors);

        var cancelled = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("cancel")} -Image {Busybox} -GpuCount 0 -PassThru"));
        var timed = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("timed")} -Image {Busybox} -Gpu h100 -User games -PassThru"));
        var timedJob = bed.JobOf(timed.Tag);
        Assert.Equal("RUNNING", timedJob.State);

        var job = bed.JobOf(cancelled.Tag).JobId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, bed.Slurm("scancel", job).Code);
        ClusterTestBed.WaitUntil(() => bed.Docker.Inspect(cancelled.Tag) is null, $"the Epilog removed the container of cancelled job {job}");

        ClusterTestBed.WaitUntil(() => bed.Docker.Inspect(timed.Tag) is null, "the Epilog removed the container of the timed-out job", 240);
        var ended = bed.Jobs().Single(j => j.JobId == timedJob.JobId);
        Assert.Equal("TIMEOUT", ended.State);
    }

    [Fact]
    public void A_MIG_profile_request_gets_a_MIG_GRES()
    {
        using var bed = new ClusterTestBed();
        var c = Created(bed.Run($"New-Ds01Container {bed.Docker.Name("mig")} -Image {Busybox} -Gpu 3g.40gb -PassThru"));
        Assert.Equal("n3", c.Node);
        Assert.Contains(c.Gpu, new[] { "0", "1" });
        var labels = bed.Docker.Inspect(c.Tag)!.Config!.Labels;
        Assert.Equal("gpu:3g.40gb:1", labels[ClusterLabels.Gres]);
        var job = bed.JobOf(c.Tag);
        Assert.Equal("gres:gpu:3g.40gb:1", job.Gres);
        // Get-Ds01Gpu shows every node's GRES; the MIG slot the job holds is this container's.
        var gpus = bed.Run("Get-Ds01Gpu").Objects<Ds01.Core.Gpu.Ds01GpuSlot>().ToList();
        Assert.Equal(new[] { "n1", "n1", "n2", "n2", "n3", "n3" }, gpus.Select(s => s.Node));
        var held = Assert.Single(gpus, s => s.Container == c.Name);
        Assert.Equal($"n3:{c.Gpu}", held.Slot);
        Assert.True(held.IsMig);
        Assert.Equal("3g.40gb", held.Profile);
        Assert.Equal(new[] { int.Parse(c.Gpu, System.Globalization.CultureInfo.InvariantCulture) }, job.GpuIndices);

        // A type no node has is refused by Slurm at submit: a specific error, and nothing is left.
        var bad = bed.Run($"New-Ds01Container {bed.Docker.Name("nosuch")} -Image {Busybox} -Gpu a100 -PassThru");
        Assert.Equal("SlurmSubmitFailed,Ds01.PowerShell.Cmdlets.NewDs01ContainerCommand", bad.SingleError().FullyQualifiedErrorId);
        Assert.Null(bed.Docker.Inspect(bed.Docker.Tag("nosuch")));
    }
}

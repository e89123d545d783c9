using Ds01.Core.Cluster;
using Ds01.Core.Containers;
using Ds01.Core.Events;
using Ds01.Core.Gpu;
using Ds01.Core.Status;
using Xunit;

namespace Ds01.Tests.Unit.Cluster;

public class SlurmUsageTests
{
    // Real `sacct -a -X -P -n -o JobID,JobName,User,Start,End,AllocTRES,State` lines (TZ=UTC) of four lab jobs:
    // root: one h100 for 21 s and one 3g.40gb for 13 s; games: two h100 for 11 s and one 3g.40gb for 11 s.
    private static readonly string Sacct = File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "slurm", "sacct-22.05.txt"));
    private static readonly DateTimeOffset From = new(2026, 12, 2, 5, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("billing=2,cpu=2,gres/gpu:h100=2,gres/gpu=2,mem=256M,node=1", "h100=2")]
    [InlineData("billing=2,cpu=2,gres/gpu:3g.40gb=1,gres/gpu=1,mem=256M,node=1", "3g.40gb=1")]
    [InlineData("cpu=4,gres/gpu=3,node=1", "gpu=3")]
    [InlineData("cpu=4,gres/gpu:a100=1,gres/gpu=2,node=1", "a100=1 gpu=1")]
    [InlineData("billing=2,cpu=2,mem=256M,node=1", "")]
    public void AllocTRES_gives_the_GPUs_by_type(string tres, string expected) =>
        Assert.Equal(expected, string.Join(" ", SlurmUsage.Gpus(tres).Select(g => $"{g.Type}={g.Count}")));

    [Fact]
    public void GPU_hours_per_user_weigh_MIG_slices_as_Ds01_does()
    {
        var jobs = SlurmUsage.Parse(Sacct + "1|sleep|bob|2026-12-02T05:00:00|2026-12-02T05:30:00|gres/gpu=1|COMPLETED\n");
        Assert.Equal(4, jobs.Count); // bob's job is not Ds01's (not named ds01:...)
        var rows = SlurmUsage.Compute(jobs, From, To, UsageGrouping.User, _ => null).ToDictionary(r => r.Name);
        Assert.Equal(new[] { "games", "root" }, rows.Keys.Order());
        Assert.Equal((2 * 11 + 3 / 7.0 * 11) / 3600, rows["games"].GpuHours, 4);
        Assert.Equal((21 + 3 / 7.0 * 13) / 3600, rows["root"].GpuHours, 4);
        Assert.Equal(22 / 3600.0, rows["games"].ContainerHours, 4);
        Assert.Equal(2, rows["games"].ContainersCreated);
        var byType = SlurmUsage.Compute(jobs, From, To, UsageGrouping.Gpu, _ => null).ToDictionary(r => r.Name);
        Assert.Equal((21 + 2 * 11) / 3600.0, byType["h100"].GpuHours, 4);
        Assert.Equal(3 / 7.0 * (13 + 11) / 3600, byType["3g.40gb"].GpuHours, 4);
    }

    [Fact]
    public void A_job_is_cut_to_the_window_and_a_running_one_counts_up_to_its_end()
    {
        var running = SlurmUsage.Parse("12|ds01:long._.1001|alice|2026-12-01T23:00:00|Unknown|gres/gpu:h100=2,gres/gpu=2|RUNNING\n");
        Assert.Null(Assert.Single(running).End);
        var window = SlurmUsage.Compute(running, new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero), new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero), UsageGrouping.User, _ => null);
        Assert.Equal(6, Assert.Single(window).GpuHours, 4);
        Assert.Equal(0, window[0].ContainersCreated); // it started before the window
        var days = SlurmUsage.Compute(running, new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), new(2026, 12, 2, 1, 0, 0, TimeSpan.Zero), UsageGrouping.Day, _ => null);
        Assert.Equal(new[] { ("2026-12-01", 2.0), ("2026-12-02", 2.0) }, days.Select(d => (d.Name, d.GpuHours)));
    }
}

public class UsageSourceTests
{
    [Fact]
    public void A_single_server_reads_its_events_and_refuses_Slurm_with_a_specific_error()
    {
        var local = ClusterConfig.Default("/etc/ds01/cluster.yaml");
        Assert.Equal(UsageSource.Events, UsageReport.ChooseSource(local, null, null));
        var e = Assert.Throws<Ds01.Core.Ds01Exception>(() => UsageReport.ChooseSource(local, UsageSource.Slurm, null));
        Assert.Equal("UsageSourceNeedsCluster", e.ErrorId);
        Assert.Contains("cluster.yaml", e.Message);
    }
}

public class ClusterStatusTests
{
    // The same real `sinfo --json` as ClusterGpusTests: n1's two h100 in use, n2 idle, one of n3's MIG GRES in use.
    private static readonly string Sinfo = File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "slurm", "sinfo-22.05.json"));

    private static readonly ClusterConfig Config = ClusterConfig.Parse("/etc/ds01/cluster.yaml",
        "backend: slurm\nslurm:\n  partition: lab\n  nodes:\n    - { name: n1, docker_host: \"unix:///run/a.sock\" }\n" +
        "    - { name: n2, docker_host: \"tcp://n2:2375\" }\n    - { name: n3, docker_host: \"unix:///run/a.sock\" }\n    - { name: n9, docker_host: \"tcp://n9:2375\" }\n");

    [Fact]
    public void One_row_per_configured_node_with_Slurms_state_gpus_and_the_nodes_containers()
    {
        var mine = new Ds01Container { Name = "thesis", User = "alice", Node = "n3", Gpu = "0" };
        var slots = ClusterGpus.Slots(Sinfo, new[] { mine });
        var containers = new[]
        {
            new Ds01StatusContainer { Name = "thesis", State = ContainerState.Running, Node = "n3" },
            new Ds01StatusContainer { Name = "old", State = ContainerState.Stopped, Node = "n3" },
        };
        var unreachable = new Dictionary<string, string> { ["tcp://n2:2375"] = "connection refused" };
        var nodes = ClusterStatus.Nodes(Sinfo, Config, slots, containers, unreachable);
        Assert.Equal(new[] { "n1", "n2", "n3", "n9" }, nodes.Select(n => n.Name));
        Assert.Equal((2, 2, 2.0), (nodes[0].SlotsInUse, nodes[0].SlotsTotal, nodes[0].GpuEquivalentsAllocated));
        Assert.Equal((1, 1, 2), (nodes[2].SlotsInUse, nodes[2].ContainersRunning, nodes[2].ContainersTotal));
        Assert.Equal(Math.Round(3 / 7.0, 3), nodes[2].GpuEquivalentsAllocated);
        Assert.Equal("Docker endpoint tcp://n2:2375: connection refused", nodes[1].Problem);
        Assert.Equal("Slurm does not know this node (sinfo)", nodes[3].Problem);
        Assert.Equal("unknown", nodes[3].State);
        Assert.Equal(new[] { "Node n2: Docker endpoint tcp://n2:2375: connection refused", "Node n9: Slurm does not know this node (sinfo)" },
            ClusterStatus.Problems(nodes));
    }
}

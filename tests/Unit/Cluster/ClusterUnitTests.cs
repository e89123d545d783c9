using Ds01.Core;
using Ds01.Core.Cluster;
using Ds01.Core.Configuration;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Xunit;

namespace Ds01.Tests.Unit.Cluster;

public class ClusterConfigTests
{
    private const string Good = """
        backend: slurm
        slurm:
          partition: lab
          account: ds01
          slurm_conf: /etc/slurm/slurm.conf
          qos: { normal: 0, high: 80 }
          nodes:
            - { name: n1, docker_host: "unix:///run/ds01/docker.sock" }
            - { name: n2, docker_host: "tcp://10.0.0.2:2375" }
        """;

    [Fact]
    public void A_slurm_config_reads_partition_nodes_and_qos_by_priority()
    {
        var c = ClusterConfig.Parse("cluster.yaml", Good);
        Assert.True(c.IsSlurm);
        Assert.Equal("lab", c.Partition);
        Assert.Equal(new[] { "n1", "n2" }, c.Nodes.Select(n => n.Name));
        Assert.Equal("tcp://10.0.0.2:2375", c.Node("n2").DockerHost);
        Assert.Equal("high", c.QosFor(90));
        Assert.Equal("high", c.QosFor(80));
        Assert.Equal("normal", c.QosFor(79));
    }

    [Fact]
    public void Without_the_file_the_backend_is_local()
    {
        var dir = Directory.CreateTempSubdirectory("ds01-cluster-").FullName;
        try { Assert.Equal(ClusterBackend.Local, ClusterConfig.Load(dir).Backend); }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("backend: kubernetes\n", "InvalidValue", 1)]
    [InlineData("backend: slurm\n", "MissingKey", 1)]
    [InlineData("backend: slurm\nslurm:\n  nodes:\n    - { name: n1, docker_host: unix:///x }\n", "MissingKey", 3)]
    [InlineData("backend: slurm\nslurm:\n  partition: lab\n  nodes:\n    - { name: n1, docker_host: /var/run/docker.sock }\n", "InvalidValue", 5)]
    [InlineData("backend: slurm\nslurm:\n  partition: \"lab --uid=0\"\n  nodes: []\n", "InvalidValue", 3)]
    [InlineData("backend: slurm\nslurm:\n  partition: lab\n  nodes: []\n  colour: blue\n", "UnknownKey", 5)]
    [InlineData("backend: slurm\nslurm:\n  partition: lab\n  nodes: []\n  qos: { high: 200 }\n", "OutOfRange", 5)]
    public void Bad_values_are_problems_with_their_line(string yaml, string code, int line)
    {
        var problems = ClusterConfig.Validate("cluster.yaml", yaml);
        Assert.Contains(problems, p => p.Code == code && p.Line == line);
        Assert.Throws<ConfigException>(() => ClusterConfig.Parse("cluster.yaml", yaml));
    }

    [Fact]
    public void An_allocation_on_an_unlisted_node_is_a_config_error()
    {
        var e = Assert.Throws<Ds01Exception>(() => ClusterConfig.Parse("cluster.yaml", Good).Node("n9"));
        Assert.Equal("ClusterNodeNotConfigured", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.InvalidData, e.Kind);
    }
}

public class SbatchRequestTests
{
    private static readonly ClusterConfig Cluster = ClusterConfig.Parse("cluster.yaml",
        "backend: slurm\nslurm:\n  partition: lab\n  qos: { normal: 0, high: 80 }\n  nodes:\n    - { name: n1, docker_host: unix:///d }\n");

    private static Ds01ResourceLimit Limits(double? cpu = 1.5, long? mem = 256L << 20, double? hours = 24, int priority = 90) =>
        new() { User = "alice", CpuLimit = cpu, MemoryLimitBytes = mem, MaxRuntimeHours = hours, Priority = priority };

    [Fact]
    public void Gres_cpus_memory_time_and_qos_come_from_the_request_and_limits()
    {
        var args = SbatchRequest.For(Cluster, "thesis._.1001", Limits(), 2, "3g.40gb", null).Arguments();
        Assert.Contains("--gres=gpu:3g.40gb:2", args);
        Assert.Contains("--cpus-per-task=2", args);
        Assert.Contains("--mem=256M", args);
        Assert.Contains("--time=1440", args);
        Assert.Contains("--qos=high", args);
        Assert.Contains("--partition=lab", args);
        Assert.Contains("--job-name=ds01:thesis._.1001", args);
        Assert.Contains("--export=NONE", args);
        Assert.DoesNotContain(args, a => a.StartsWith("--uid", StringComparison.Ordinal) || a.StartsWith("--wrap", StringComparison.Ordinal));
    }

    [Fact]
    public void Untyped_and_cpu_only_requests_and_acting_for_a_user()
    {
        var bob = new UserIdentity("bob", 1002, 1002, "/home/bob", Array.Empty<string>());
        var any = SbatchRequest.For(Cluster, "a._.1002", Limits(cpu: null, mem: null, hours: null, priority: 10), 1, null, bob).Arguments();
        Assert.Contains("--gres=gpu:1", any);
        Assert.Contains("--qos=normal", any);
        Assert.Contains("--uid=1002", any);
        Assert.Contains("--gid=1002", any);
        Assert.DoesNotContain(any, a => a.StartsWith("--mem", StringComparison.Ordinal) || a.StartsWith("--time", StringComparison.Ordinal));
        Assert.DoesNotContain(SbatchRequest.For(Cluster, "c._.1", Limits(), 0, null, null).Arguments(), a => a.StartsWith("--gres", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("h100:2")]
    [InlineData("h100,gpu:a100")]
    [InlineData("-x")]
    [InlineData("h100 --uid=0")]
    public void A_gpu_type_that_could_carry_more_than_a_type_is_refused(string type)
    {
        var e = Assert.Throws<Ds01Exception>(() => SbatchRequest.For(Cluster, "t._.1", Limits(), 1, type, null));
        Assert.Equal("InvalidGpuType", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void The_batch_script_is_fixed_text()
    {
        Assert.StartsWith("#!/bin/sh\n", SbatchRequest.Script);
        Assert.EndsWith("exec sleep infinity\n", SbatchRequest.Script);
    }
}

public class SqueueParseTests
{
    // A real `squeue --json` of the lab (Slurm 22.05.8): four h100 jobs running, one pending (Resources), a MIG job
    // holding two 3g.40gb instances, and ended jobs (CANCELLED, TIMEOUT, FAILED, one cancelled while AssocGrpGRES).
    private static readonly IReadOnlyList<SlurmJob> Jobs =
        SlurmClient.ParseSqueue(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "slurm", "squeue-22.05.json")));

    [Fact]
    public void Running_jobs_carry_their_node_and_gpu_indices()
    {
        var j = Jobs.Single(x => x.JobId == 23);
        Assert.True(j.IsRunning);
        Assert.Equal("n1", j.Node);
        Assert.Equal(new[] { 1 }, j.GpuIndices);
        Assert.Equal("gres:gpu:h100:1", j.Gres);
        Assert.Equal(new[] { 0, 1 }, Jobs.Single(x => x.JobId == 27).GpuIndices);
        Assert.Equal("ds01lab", j.Cluster);
    }

    [Fact]
    public void Pending_and_ended_jobs_keep_their_reason()
    {
        var pending = Jobs.Single(x => x.JobId == 26);
        Assert.True(pending.IsPending);
        Assert.Equal("Resources", pending.Reason);
        Assert.Null(pending.Node);
        Assert.Empty(pending.GpuIndices);
        Assert.True(Jobs.Single(x => x.JobId == 21).IsFinished);
        Assert.Equal("TimeLimit", Jobs.Single(x => x.JobId == 21).Reason);
    }

    [Fact]
    public void The_cluster_queue_lists_ds01_pending_jobs_as_queued_allocations()
    {
        var queued = Assert.Single(ClusterQueue.Pending(Jobs));
        Assert.Equal("fix5", queued.Container);
        Assert.Equal(GpuAllocationState.Queued, queued.State);
        Assert.Equal("Resources", queued.Reason);
        Assert.Equal("gpu:h100:1", queued.Slots);
        Assert.Equal(26, queued.JobId);
    }

    [Theory]
    [InlineData("gpu:h100:1(IDX:0)", new[] { 0 })]
    [InlineData("gpu:h100:3(IDX:0,2-3)", new[] { 0, 2, 3 })]
    [InlineData("gpu:h100:1", new int[0])]
    public void Gres_detail_indices(string detail, int[] expected) => Assert.Equal(expected, SlurmClient.Indices(detail));
}

public class ClusterGpusTests
{
    // A real `sinfo --json` of the lab: n1's two h100 in use by one job, n2 idle, one of n3's two 3g.40gb MIG GRES in use.
    private static readonly string Sinfo = File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "slurm", "sinfo-22.05.json"));

    [Fact]
    public void Every_node_gres_index_is_a_slot_marked_as_slurm_allocates_it()
    {
        var mine = new Ds01.Core.Containers.Ds01Container { Name = "thesis", User = "alice", Node = "n3", Gpu = "0" };
        var slots = ClusterGpus.Slots(Sinfo, new[] { mine });
        Assert.Equal(new[] { "n1:0", "n1:1", "n2:0", "n2:1", "n3:0", "n3:1" }, slots.Select(s => s.Slot));
        Assert.Equal(new[] { true, true, false, false, true, false }, slots.Select(s => s.State == GpuSlotState.Allocated));
        var mig = slots.Single(s => s.Slot == "n3:0");
        Assert.True(mig.IsMig);
        Assert.Equal("3g.40gb", mig.Profile);
        Assert.Equal(3.0 / 7, mig.Weight, 3);
        Assert.Equal("thesis", mig.Container);
        Assert.Equal("h100", slots[0].Model);
        Assert.False(slots[0].IsMig);
        Assert.Null(slots[0].Container);
    }
}

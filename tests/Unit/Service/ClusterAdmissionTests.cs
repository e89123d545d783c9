using System.Text.Json.Nodes;
using Ds01.Core;
using Ds01.Core.Cluster;
using Ds01.Core.Configuration;
using Ds01.Core.Identity;
using Ds01.Core.Naming;
using Ds01.Service.Policy;
using Xunit;

namespace Ds01.Tests.Unit.Service;

/// <summary>
/// ds01d on a Slurm node: which jobs admit a create and what the admitted body carries (the real ds01d against the
/// Slurm lab is tests/Integration/ClusterServiceTests.cs).
/// </summary>
public class ClusterAdmissionTests
{
    private static readonly UserIdentity Alice = new("alice", 1001, 1001, "/home/alice", new[] { "alice" });
    private const string Tag = "train._.1001";

    private static SlurmJob Job(string user = "alice", string state = "RUNNING", string? node = "n1", string name = "ds01:" + Tag, params int[] gpus) =>
        new(42, name, user, state, "None", node, gpus, gpus.Length == 0 ? "" : $"gres:gpu:h100:{gpus.Length}", "normal", "lab", null, null, "ds01lab");

    private static Ds01Exception Refused(SlurmJob job, params string[] devices) =>
        Assert.Throws<Ds01Exception>(() => ClusterAdmission.Check(job, Tag, devices, Alice, "n1"));

    [Fact]
    public void The_callers_running_job_on_this_node_for_this_container_with_its_gpus_is_admitted()
    {
        ClusterAdmission.Check(Job(gpus: new[] { 0, 1 }), Tag, new[] { "1", "0" }, Alice, "n1");
        ClusterAdmission.Check(Job(), Tag, Array.Empty<string>(), Alice, "n1");
    }

    [Fact]
    public void Another_users_job_is_refused() =>
        Assert.Equal("ClusterJobNotYours", Refused(Job(user: "bob", gpus: new[] { 0 }), "0").ErrorId);

    [Theory]
    [InlineData("PENDING")]
    [InlineData("COMPLETING")]
    [InlineData("CANCELLED")]
    public void A_job_that_is_not_running_is_refused(string state) =>
        Assert.Equal("ClusterJobNotRunning", Refused(Job(state: state)).ErrorId);

    [Fact]
    public void A_job_on_another_node_is_refused()
    {
        var e = Refused(Job(node: "n2", gpus: new[] { 0 }), "0");
        Assert.Equal("ClusterJobNotOnThisNode", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.PermissionDenied, e.Kind);
        Assert.Contains("'n2'", e.RecommendedAction);
    }

    [Fact]
    public void A_job_submitted_for_another_container_is_refused() =>
        Assert.Equal("ClusterJobNotForThisContainer", Refused(Job(name: "ds01:other._.1001")).ErrorId);

    [Theory]
    [InlineData(new[] { 0 }, new[] { "1" })]            // an index the job does not hold
    [InlineData(new[] { 0 }, new[] { "0", "1" })]       // more than the job holds
    [InlineData(new[] { 0, 1 }, new[] { "0" })]         // fewer: the job's GRES would be half idle and half unaccounted
    [InlineData(new int[0], new[] { "0" })]             // a CPU-only job
    [InlineData(new[] { 0 }, new[] { "all" })]
    [InlineData(new[] { 0 }, new[] { "GPU-00000000-0000-4000-8000-000000000000" })]
    [InlineData(new[] { 0 }, new string[0])]            // the job's GPUs left out
    public void Gpus_other_than_exactly_the_jobs_are_refused(int[] held, string[] asked) =>
        Assert.Equal("ClusterGpuNotInJob", Refused(Job(gpus: held), asked).ErrorId);

    [Fact]
    public void The_admitted_body_carries_the_jobs_gpus_and_labels_not_the_requests()
    {
        using var cfg = new TempConfig();
        cfg.Write("gpu-config.yaml", "attach: simulated\ngpus: []\n");
        var session = new Ds01Session(new Ds01Paths(cfg.ConfigDir, cfg.StateDir, cfg.LogDir), new OsIdentitySource());
        var body = JsonNode.Parse("""
            {"Env":["A=1","CUDA_VISIBLE_DEVICES=0,1","SLURM_JOB_ID=7"],
             "Labels":{"ds01.slurm.job":"42","ds01.node":"n9","ds01.slurm.gres":"gpu:h100:8","ds01.gpu.slots":"0,1","x":"y"},
             "HostConfig":{"DeviceRequests":[{"Driver":"nvidia","Count":-1}]}}
            """)!.AsObject();
        ClusterAdmission.Apply(body, Job(gpus: new[] { 1 }), session, 15);

        var env = body["Env"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.Equal(new[] { "A=1", "CUDA_VISIBLE_DEVICES=1", "NVIDIA_VISIBLE_DEVICES=1", "SLURM_JOB_ID=42" }, env);
        var labels = body["Labels"]!.AsObject();
        Assert.Equal("42", labels[ClusterLabels.Job]!.GetValue<string>());
        Assert.Equal("n1", labels[ClusterLabels.Node]!.GetValue<string>());
        Assert.Equal("gpu:h100:1", labels[ClusterLabels.Gres]!.GetValue<string>());
        Assert.Equal("ds01lab", labels[ClusterLabels.Cluster]!.GetValue<string>());
        Assert.Equal("1", labels[Labels.GpuSlots]!.GetValue<string>());
        Assert.Equal("15", labels[Labels.GpuHoldMinutes]!.GetValue<string>());
        Assert.Equal("y", labels["x"]!.GetValue<string>());
        // Simulated attach: no device request at all (the request's "every GPU" is gone).
        Assert.Null(body["HostConfig"]!["DeviceRequests"]);

        cfg.Write("gpu-config.yaml", "attach: nvidia\ngpus: []\n");
        var nvidia = new Ds01Session(new Ds01Paths(cfg.ConfigDir, cfg.StateDir, cfg.LogDir), new OsIdentitySource());
        var body2 = JsonNode.Parse("""{"Labels":{"ds01.slurm.job":"42"},"HostConfig":{}}""")!.AsObject();
        ClusterAdmission.Apply(body2, Job(gpus: new[] { 0, 1 }), nvidia, 15);
        var request = Assert.Single(body2["HostConfig"]!["DeviceRequests"]!.AsArray())!;
        Assert.Equal("nvidia", request["Driver"]!.GetValue<string>());
        Assert.Equal(new[] { "0", "1" }, request["DeviceIDs"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    [Theory]
    [InlineData("""{"Labels":{}}""")]
    [InlineData("""{"Labels":{"ds01.slurm.job":"12a"}}""")]
    [InlineData("""{"Labels":{"ds01.slurm.job":"-1"}}""")]
    [InlineData("""{}""")]
    public async Task A_create_without_a_job_id_is_refused_before_slurm_is_asked(string json)
    {
        // slurm.bin_dir points nowhere: were Slurm asked, the error would be SlurmCommandNotFound instead.
        var cluster = ClusterConfig.Parse("/etc/ds01/cluster.yaml",
            "backend: slurm\nslurm:\n  partition: lab\n  bin_dir: /nonexistent\n  nodes:\n    - { name: n1, docker_host: \"unix:///run/ds01/docker.sock\" }\n");
        var e = await Assert.ThrowsAsync<Ds01Exception>(() => ClusterAdmission.JobAsync(JsonNode.Parse(json)!.AsObject(), Tag, cluster, CancellationToken.None));
        Assert.Equal("ClusterCreateNeedsJob", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.PermissionDenied, e.Kind);
    }
}

using System.Globalization;
using Ds01.Core.Cluster;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// A cluster whose nodes each run ds01d (ClusterServiceTestBed: the real Slurm lab, three real ds01d with
/// --slurm-node, real OS accounts that reach Docker only through them): a user's container lands through the ds01d of
/// the node Slurm chose, which admits it only for the caller's running job there, with exactly the job's GPUs.
/// </summary>
[Collection("engine")]
public class ClusterServiceTests : IClassFixture<ClusterServiceTestBed>
{
    private readonly ClusterServiceTestBed _bed;

    public ClusterServiceTests(ClusterServiceTestBed bed)
    {
        _bed = bed;
        // Each test starts with the lab's GPUs free, also after an earlier test failed half-way.
        _bed.EndMyJobs();
    }

    private ServiceTestBed.Account Alice => _bed.Alice;
    private ServiceTestBed.Account Bob => _bed.Bob;

    private static string Id(long job) => job.ToString(CultureInfo.InvariantCulture);

    private static string CreateBody(long? job, params string[] env) =>
        "{\"Image\":\"" + ServiceTestBed.Busybox + "\",\"Cmd\":[\"sleep\",\"600\"]" +
        (env.Length == 0 ? "" : ",\"Env\":[" + string.Join(",", env.Select(e => $"\"{e}\"")) + "]") +
        (job is null ? "" : ",\"Labels\":{\"" + ClusterLabels.Job + "\":\"" + Id(job.Value) + "\"}") + "}";

    /// <summary>ds01d's refusal: the status, and the error id and message of its ds01 object.</summary>
    private static string AssertRefused(ServiceTestBed.Result r, string id, int status = 403)
    {
        Assert.True(r.Out.TrimEnd().EndsWith($"HTTP {status}", StringComparison.Ordinal), r.All);
        var body = r.Out[..r.Out.LastIndexOf("\nHTTP ", StringComparison.Ordinal)];
        using var doc = System.Text.Json.JsonDocument.Parse(body);
        var ds01 = doc.RootElement.GetProperty("ds01");
        Assert.Equal(id, ds01.GetProperty("error_id").GetString());
        return ds01.GetProperty("message").GetString()!;
    }

    private static string? Detail(System.Text.Json.JsonElement e, string name) =>
        e.GetProperty("details").TryGetProperty(name, out var v) ? v.ToString() : null;

    /// <summary>The index of one h100 on a node that the job does not hold (each node has 0 and 1).</summary>
    private static string OtherIndex(SlurmJob job) => job.GpuIndices.Single() == 0 ? "1" : "0";

    [Fact]
    public void A_users_container_lands_through_its_nodes_ds01d_with_the_jobs_gpu_and_one_list_shows_every_node()
    {
        var project = _bed.Name("cproj");
        var gpu = _bed.Name("cgpu");
        var mig = _bed.Name("cmig");
        // An image with the user built in: the legacy run + commit path would need a container outside any job.
        var build = _bed.Ds01(Alice, $"Build-Ds01Image -Project {project} -BaseImage {ServiceTestBed.Busybox} -Framework Busybox -FrameworkVersion 1.36");
        Assert.True(build.Code == 0, build.All);

        var made = _bed.Ds01(Alice, $"New-Ds01Container {gpu} -Project {project} -Gpu h100 | Out-Null; New-Ds01Container {mig} -Project {project} -Gpu 3g.40gb | Out-Null; " +
                                    "Get-Ds01Container | ForEach-Object { 'row|' + $_.Name + '|' + $_.Node + '|' + $_.Gpu + '|' + $_.User + '|' + $_.State }");
        Assert.True(made.Code == 0, made.All);
        var rows = made.Out.Split('\n').Where(l => l.StartsWith("row|", StringComparison.Ordinal)).Select(l => l.Trim().Split('|')).ToDictionary(r => r[1]);

        // One Get-Ds01Container by Alice lists both, each on its own node, hers and running.
        Assert.Contains(rows[gpu][2], new[] { "n1", "n2" });
        Assert.Equal("n3", rows[mig][2]);
        Assert.All(new[] { rows[gpu], rows[mig] }, r => Assert.Equal(Alice.Name, r[4]));
        Assert.All(new[] { rows[gpu], rows[mig] }, r => Assert.Equal("Running", r[5]));

        foreach (var name in new[] { gpu, mig })
        {
            var tag = ServiceTestBed.Tag(name, Alice);
            var job = _bed.JobOf(tag);
            Assert.Equal("RUNNING", job.State);
            Assert.Equal(Alice.Name, job.User);
            Assert.Equal(rows[name][2], job.Node);
            var c = _bed.Service.Inspect(tag)!;
            Assert.Equal(Id(job.JobId), c.Config.Labels[ClusterLabels.Job]);
            Assert.Equal(job.Node, c.Config.Labels[ClusterLabels.Node]);
            Assert.Equal(Alice.Name, c.Config.Labels[Labels.User]);
            var index = Assert.Single(job.GpuIndices).ToString(CultureInfo.InvariantCulture);
            Assert.Equal(index, rows[name][3]);
            Assert.Contains($"CUDA_VISIBLE_DEVICES={index}", c.Config.Env);
            Assert.Equal(index, c.Config.Labels[Labels.GpuSlots]);
            // The create went through the ds01d of the job's node, as the kernel named the caller.
            Assert.Contains(_bed.Service.Events(), e => e.GetProperty("event_type").GetString() == "container.create" &&
                e.GetProperty("source").GetString() == "ds01d" && e.GetProperty("user").GetString() == Alice.Name &&
                Detail(e, "container") == tag && Detail(e, "node") == job.Node && Detail(e, "slurm_job") == Id(job.JobId));
        }

        // Stop keeps the job for the GPU hold: the container stays, stopped, and its node's ds01d starts it again while
        // the job runs. Remove -Stop ends the jobs and removes the containers at once.
        var gpuTag = ServiceTestBed.Tag(gpu, Alice);
        var gpuJob = _bed.JobOf(gpuTag).JobId;
        var migJob = _bed.JobOf(ServiceTestBed.Tag(mig, Alice)).JobId;
        var stop = _bed.Ds01(Alice, $"Stop-Ds01Container {gpu} | Out-Null");
        Assert.True(stop.Code == 0, stop.All);
        Assert.False(_bed.Service.Inspect(gpuTag)!.State.Running);
        Assert.Equal("RUNNING", _bed.Jobs().Single(j => j.JobId == gpuJob).State);
        var start = _bed.Ds01(Alice, $"Start-Ds01Container {gpu} | Out-Null");
        Assert.True(start.Code == 0, start.All);
        Assert.True(_bed.Service.Inspect(gpuTag)!.State.Running);
        var end = _bed.Ds01(Alice, $"Remove-Ds01Container {gpu} -Stop -Force; Remove-Ds01Container {mig} -Stop -Force");
        Assert.True(end.Code == 0, end.All);
        Assert.Null(_bed.Service.Inspect(gpuTag));
        Assert.Null(_bed.Service.Inspect(ServiceTestBed.Tag(mig, Alice)));
        ClusterTestBed.WaitUntil(() => _bed.Jobs().Where(j => j.JobId == gpuJob || j.JobId == migJob).All(j => j.IsFinished), "both jobs ended");
    }

    [Fact]
    public void Bob_naming_Alices_running_job_in_a_raw_create_is_refused_and_nothing_is_created()
    {
        var aliceTag = ServiceTestBed.Tag(_bed.Name("ajob"), Alice);
        var jobId = _bed.Submit(Alice, aliceTag, "gpu:h100:1");
        var job = _bed.Job(jobId);
        var index = Assert.Single(job.GpuIndices).ToString(CultureInfo.InvariantCulture);

        var bobTag = ServiceTestBed.Tag(_bed.Name("steal"), Bob);
        var steal = _bed.Curl(Bob, job.Node!, "POST", $"/containers/create?name={bobTag}", CreateBody(jobId, $"NVIDIA_VISIBLE_DEVICES={index}"));
        Assert.Contains($"'{Alice.Name}'", AssertRefused(steal, "ClusterJobNotYours"));
        Assert.Null(_bed.Service.Inspect(bobTag));

        // Without a job, a user's create on a Slurm node is refused outright: nothing runs outside Slurm there.
        var plain = _bed.Curl(Bob, job.Node!, "POST", $"/containers/create?name={bobTag}", CreateBody(null));
        AssertRefused(plain, "ClusterCreateNeedsJob");
        Assert.Null(_bed.Service.Inspect(bobTag));
        Assert.Equal("RUNNING", _bed.Job(jobId).State);
        Assert.Equal(0, _bed.Slurm("scancel", Id(jobId)).Code);
    }

    [Fact]
    public void A_create_naming_a_gpu_the_job_does_not_hold_is_refused_and_the_jobs_own_is_admitted_with_labels_from_the_job()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("gidx"), Alice);
        var jobId = _bed.Submit(Alice, tag, "gpu:h100:1");
        var job = _bed.Job(jobId);
        var index = Assert.Single(job.GpuIndices).ToString(CultureInfo.InvariantCulture);

        var wrong = _bed.Curl(Alice, job.Node!, "POST", $"/containers/create?name={tag}", CreateBody(jobId, $"NVIDIA_VISIBLE_DEVICES={OtherIndex(job)}"));
        AssertRefused(wrong, "ClusterGpuNotInJob");
        Assert.Null(_bed.Service.Inspect(tag));
        var none = _bed.Curl(Alice, job.Node!, "POST", $"/containers/create?name={tag}", CreateBody(jobId));
        AssertRefused(none, "ClusterGpuNotInJob");
        Assert.Null(_bed.Service.Inspect(tag));

        // The job's own GPU: admitted, and ds01d writes the GPU and cluster labels and CUDA_VISIBLE_DEVICES from the job.
        var right = _bed.Curl(Alice, job.Node!, "POST", $"/containers/create?name={tag}", CreateBody(jobId, $"NVIDIA_VISIBLE_DEVICES={index}"));
        Assert.True(right.Out.TrimEnd().EndsWith("HTTP 201", StringComparison.Ordinal), right.All);
        var c = _bed.Service.Inspect(tag)!;
        Assert.Equal(Id(jobId), c.Config.Labels[ClusterLabels.Job]);
        Assert.Equal(job.Node, c.Config.Labels[ClusterLabels.Node]);
        Assert.Equal("gpu:h100:1", c.Config.Labels[ClusterLabels.Gres]);
        Assert.Equal(index, c.Config.Labels[Labels.GpuSlots]);
        Assert.Contains($"CUDA_VISIBLE_DEVICES={index}", c.Config.Env);
        Assert.Contains($"SLURM_JOB_ID={Id(jobId)}", c.Config.Env);

        // scancel: the Epilog removes the container of the ended job.
        Assert.Equal(0, _bed.Slurm("scancel", Id(jobId)).Code);
        ClusterTestBed.WaitUntil(() => _bed.Service.Inspect(tag) is null, "the Epilog removed the container");
    }

    [Fact]
    public void A_create_at_n2s_ds01d_for_a_job_on_n1_is_refused()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("wnode"), Alice);
        var jobId = _bed.Submit(Alice, tag, "gpu:h100:1", node: "n1");
        var job = _bed.Job(jobId);
        Assert.Equal("n1", job.Node);
        var index = Assert.Single(job.GpuIndices).ToString(CultureInfo.InvariantCulture);

        var r = _bed.Curl(Alice, "n2", "POST", $"/containers/create?name={tag}", CreateBody(jobId, $"NVIDIA_VISIBLE_DEVICES={index}"));
        Assert.Contains("runs on node 'n1', not on this node ('n2')", AssertRefused(r, "ClusterJobNotOnThisNode"));
        Assert.Null(_bed.Service.Inspect(tag));
        Assert.Equal(0, _bed.Slurm("scancel", Id(jobId)).Code);
    }

    [Fact]
    public void A_start_through_ds01d_of_a_container_whose_job_ended_is_refused()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("ended"), Alice);
        var jobId = _bed.Submit(Alice, tag, null, node: "n1");
        Assert.Equal(0, _bed.Slurm("scancel", Id(jobId)).Code);
        ClusterTestBed.WaitUntil(() => _bed.Jobs().FirstOrDefault(j => j.JobId == jobId) is not { IsFinished: false }, $"job {jobId} ended");
        // As if the Epilog had failed to remove it: Alice's container of the ended job, made by root on dockerd itself.
        var id = _bed.Service.Engine.CreateContainerAsync(new Docker.DotNet.Models.CreateContainerParameters
        {
            Name = tag, Image = ServiceTestBed.Busybox, Cmd = new List<string> { "sleep", "600" },
            Labels = new Dictionary<string, string>
            {
                [Labels.User] = Alice.Name, [Labels.UserId] = Alice.Uid.ToString(CultureInfo.InvariantCulture),
                [ClusterLabels.Job] = Id(jobId), [ClusterLabels.Node] = "n1",
            },
        }, CancellationToken.None).GetAwaiter().GetResult();

        var start = _bed.Curl(Alice, "n1", "POST", $"/containers/{tag}/start");
        AssertRefused(start, "ClusterJobNotRunning");
        Assert.False(_bed.Service.Inspect(tag)!.State.Running);
        _bed.Service.Engine.RemoveContainerAsync(id, force: true, CancellationToken.None).GetAwaiter().GetResult();
    }
}

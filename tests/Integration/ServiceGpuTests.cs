using System.Diagnostics;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// What only ds01d can bind (issue 15), with real accounts going through the real service to the test dockerd: a
/// create killed mid-way keeps its slot until dockerd has answered, the GPU queue spans users, and the image's
/// labels and environment never decide holdings.
/// </summary>
[Collection("engine")]
public class ServiceGpuTests
{
    private static string Uuid(int i) => $"GPU-00000000-0000-4000-8000-00000000000{i}";
    private static readonly string[] Limits = { "--cpus", "1", "--memory", "128m", "--pids-limit", "100" };

    private static string[] Create(string tag, params string[] extra) =>
        new[] { "create", "--name", tag }.Concat(Limits).Concat(extra).Concat(new[] { ServiceTestBed.Busybox, "true" }).ToArray();

    [Fact]
    public async Task A_docker_cli_create_killed_while_dockerd_works_on_it_keeps_its_slot_so_no_second_container_gets_it()
    {
        using var bed = new ServiceTestBed(startService: false);
        using var proxy = new SlowCreateProxy(Path.Combine(bed.Root, "slow.sock"), bed.DockerHost["unix://".Length..], TimeSpan.FromSeconds(6));
        var service = bed.StartService(bed.Socket, "unix://" + proxy.Path, out var log);
        try
        {
            var alices = ServiceTestBed.Tag(bed.Name("killed"), bed.Alice);
            using (var killed = bed.Spawn(bed.Alice, "docker", Create(alices, "-e", $"NVIDIA_VISIBLE_DEVICES={Uuid(0)}")))
            {
                var reached = await Task.WhenAny(proxy.CreateSeen.Task, killed.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
                Assert.True(reached == proxy.CreateSeen.Task, $"the create did not reach dockerd: {(killed.HasExited ? killed.StandardError.ReadToEnd() : "still running")} {log}");
                killed.Kill(entireProcessTree: true); // SIGKILL: the client is gone while dockerd is still making the container
                killed.WaitForExit();
            }

            // Bob asks for the same GPU while dockerd has not yet made Alice's container.
            var bobs = ServiceTestBed.Tag(bed.Name("second"), bed.Bob);
            var second = bed.Docker(bed.Bob, Create(bobs, "-e", $"NVIDIA_VISIBLE_DEVICES={Uuid(0)}"));
            Assert.True(second.Code != 0, "the second create of slot 0 passed: " + second.All);
            Assert.Contains("GPU slot 0 is ", second.Err); // GpuSlotBusy: the docker CLI shows the message
            Assert.Null(bed.Inspect(bobs));

            // ds01d finished the killed create: one container on the slot, labelled by ds01d, and logged as created.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (bed.Inspect(alices) is null && DateTime.UtcNow < deadline) await Task.Delay(200);
            Assert.Equal("0", bed.Inspect(alices)?.Config?.Labels["ds01.gpu.slots"]);
            Assert.Contains(bed.Events(), e => e.GetProperty("event_type").GetString() == "container.create" &&
                                               e.GetProperty("details").GetProperty("container").GetString() == alices);
            // Its reservation went with dockerd's answer: once the container is removed the slot is free at once.
            Assert.Empty(Directory.Exists(Path.Combine(bed.StateDir, "gpu-reservations")) ? Directory.GetFiles(Path.Combine(bed.StateDir, "gpu-reservations")) : []);
            Assert.Equal(0, bed.Docker(bed.Alice, "rm", alices).Code);
            var again = bed.Docker(bed.Bob, Create(bobs, "-e", $"NVIDIA_VISIBLE_DEVICES={Uuid(0)}"));
            Assert.True(again.Code == 0, again.All);
            Assert.Equal(0, bed.Docker(bed.Bob, "rm", bobs).Code);
        }
        finally
        {
            ServiceTestBed.Stop(service);
        }
    }

    [Fact]
    public async Task A_waiter_in_ds01ds_queue_is_served_before_another_users_newcomer_at_equal_priority()
    {
        using var bed = new ServiceTestBed();
        var holders = Enumerable.Range(0, 3).Select(i => $"hold{i}{bed.RunId}").ToList();
        try
        {
            // Every GPU held (by an admin's containers, straight at dockerd).
            foreach (var (h, i) in holders.Select((h, i) => (h, i)))
                Assert.Equal(0, DockerTestBed.DockerCli("create", "--name", h, "--label", $"ds01.gpu.slots={i}", "--label", $"ds01.gpu.uuids={Uuid(i)}",
                    "--label", "ds01.user=root", ServiceTestBed.Busybox, "true").Code);
            for (var round = 0; round < 2; round++)
            {
                var waiter = bed.Name($"wait{round}");
                using var waiting = bed.Spawn(bed.Alice, "dotnet", new[] { Ds01Cli.Dll, "-c",
                    $"New-Ds01Container {waiter} -Image {ServiceTestBed.Busybox} -GpuCount 1 -Wait -TimeoutSec 90 | Out-Null; (Get-Ds01Container {waiter}).Gpu" });
                var output = waiting.StandardOutput.ReadToEndAsync();
                var errors = waiting.StandardError.ReadToEndAsync();
                // Alice's place is in ds01d's own queue (root's state dir), not only in her process.
                var queue = Path.Combine(bed.StateDir, "gpu-queue");
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!(Directory.Exists(queue) && Directory.GetFiles(queue, "*.json").Length > 0) && !waiting.HasExited && DateTime.UtcNow < deadline)
                    await Task.Delay(100);
                Assert.True(Directory.Exists(queue) && Directory.GetFiles(queue, "*.json").Length == 1,
                    $"no entry of Alice's in ds01d's queue: {(waiting.HasExited ? await errors : "")}");

                if (round == 0)
                {
                    // Bob sees Alice's place in line through ds01d (his own state dir knows nothing of it).
                    var seen = bed.Ds01(bed.Bob, "Get-Ds01GpuAllocation -Queued | ForEach-Object { \"$($_.User) $($_.Container) $($_.State)\" }");
                    Assert.True(seen.Code == 0, seen.All);
                    Assert.Contains($"{bed.Alice.Name} {waiter} Queued", seen.Out);
                }

                // A GPU is freed; Bob, not waiting, asks for exactly that one at once.
                Assert.Equal(0, DockerTestBed.DockerCli("rm", holders[1]).Code);
                var bobs = ServiceTestBed.Tag(bed.Name($"newcomer{round}"), bed.Bob);
                var newcomer = bed.Docker(bed.Bob, Create(bobs, "-e", $"NVIDIA_VISIBLE_DEVICES={Uuid(1)}"));
                Assert.True(newcomer.Code != 0, $"round {round}: the newcomer got the GPU the waiter was promised");
                // GpuQueuedAhead (the waiter has not asked again yet) or GpuSlotBusy (it already has the GPU).
                Assert.True(newcomer.Err.Contains("A free GPU is promised to a waiting request") || newcomer.Err.Contains("GPU slot 1 is "), newcomer.Err);
                Assert.Null(bed.Inspect(bobs));

                Assert.True(waiting.WaitForExit(TimeSpan.FromSeconds(90)), "the waiter never got the GPU");
                Assert.True(waiting.ExitCode == 0, $"round {round}: {await errors} {await output}");
                Assert.Equal("1", (await output).Trim().Split('\n')[^1].Trim());
                Assert.Empty(Directory.GetFiles(queue, "*.json"));

                // Give the GPU back to the admin for the next round.
                Assert.Equal(0, bed.Docker(bed.Alice, "rm", ServiceTestBed.Tag(waiter, bed.Alice)).Code);
                Assert.Equal(0, DockerTestBed.DockerCli("create", "--name", holders[1], "--label", "ds01.gpu.slots=1", "--label", $"ds01.gpu.uuids={Uuid(1)}",
                    "--label", "ds01.user=root", ServiceTestBed.Busybox, "true").Code);
            }
        }
        finally
        {
            foreach (var h in holders) DockerTestBed.DockerCli("rm", "-f", h);
        }
    }

    [Fact]
    public void A_waiting_create_that_names_a_busy_gpu_while_another_is_free_takes_no_place_in_line()
    {
        using var bed = new ServiceTestBed();
        var holder = $"hold0{bed.RunId}";
        try
        {
            Assert.Equal(0, DockerTestBed.DockerCli("create", "--name", holder, "--label", "ds01.gpu.slots=0", "--label", $"ds01.gpu.uuids={Uuid(0)}",
                "--label", "ds01.user=root", ServiceTestBed.Busybox, "true").Code);
            // Alice asks (again and again, as a -Wait client would) for the busy GPU 0, claiming to wait: GPUs 1 and 2 are free.
            var alices = ServiceTestBed.Tag(bed.Name("camper"), bed.Alice);
            var until = DateTime.UtcNow.AddHours(12).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            for (var i = 0; i < 2; i++)
            {
                var camp = bed.Docker(bed.Alice, Create(alices, "-e", $"NVIDIA_VISIBLE_DEVICES={Uuid(0)}", "--label", $"ds01.gpu.wait_until={until}", "--label", "ds01.gpu.wait_count=1"));
                Assert.NotEqual(0, camp.Code);
                Assert.Contains("GPU slot 0 is ", camp.Err);
            }
            var queue = Path.Combine(bed.StateDir, "gpu-queue");
            Assert.Empty(Directory.Exists(queue) ? Directory.GetFiles(queue, "*.json") : []);
            // So Bob, not waiting, gets a free GPU.
            var bobs = ServiceTestBed.Tag(bed.Name("free"), bed.Bob);
            var free = bed.Docker(bed.Bob, Create(bobs, "-e", $"NVIDIA_VISIBLE_DEVICES={Uuid(1)}"));
            Assert.True(free.Code == 0, free.All);
            Assert.Equal(0, bed.Docker(bed.Bob, "rm", bobs).Code);
        }
        finally
        {
            DockerTestBed.DockerCli("rm", "-f", holder);
        }
    }

    [Fact]
    public void A_raw_docker_start_of_a_container_whose_gpu_went_to_someone_else_after_its_hold_is_refused()
    {
        using var bed = new ServiceTestBed();
        // No hold after stop: a stopped container's GPU is free for the next create at once.
        var limits = Path.Combine(bed.ConfigDir, "resource-limits.yaml");
        File.WriteAllText(limits, File.ReadAllText(limits).Replace("defaults:\n", "defaults:\n  gpu_hold_after_stop_minutes: 0\n"));
        var alices = ServiceTestBed.Tag(bed.Name("first"), bed.Alice);
        var bobs = ServiceTestBed.Tag(bed.Name("next"), bed.Bob);
        var gpu = $"NVIDIA_VISIBLE_DEVICES={Uuid(0)}";
        Assert.Equal(0, bed.Docker(bed.Alice, Create(alices, "-e", gpu)).Code);
        Assert.Equal(0, bed.Docker(bed.Alice, "start", alices).Code);
        Assert.Equal(0, bed.Docker(bed.Alice, "wait", alices).Code);
        var next = bed.Docker(bed.Bob, Create(bobs, "-e", gpu));
        Assert.True(next.Code == 0, next.All);

        // Alice's container still names slot 0; started straight through the docker CLI it would share it with Bob's.
        var again = bed.Docker(bed.Alice, "start", alices);
        Assert.NotEqual(0, again.Code);
        Assert.Contains("went to", again.Err); // GpuSlotTaken
        Assert.False(bed.Inspect(alices)!.State.Running);

        // Once Bob's container is gone, the slot is Alice's again.
        Assert.Equal(0, bed.Docker(bed.Bob, "rm", bobs).Code);
        var free = bed.Docker(bed.Alice, "start", alices);
        Assert.True(free.Code == 0, free.All);
        Assert.Equal(0, bed.Docker(bed.Alice, "rm", "-f", alices).Code);
    }

    [Fact]
    public void Images_never_decide_holdings_or_reach_other_users_through_the_service()
    {
        using var bed = new ServiceTestBed();
        var claiming = $"ds01-{bed.Alice.Uid}/claims{bed.RunId}:latest";
        var cuda = $"ds01-{bed.Alice.Uid}/cuda{bed.RunId}:latest";
        Build(bed, claiming, "LABEL ds01.gpu.slots=0,1");
        Build(bed, cuda, "ENV NVIDIA_VISIBLE_DEVICES=all\nLABEL ds01.project=forged aime.mlc.FRAMEWORK=forged");

        // An image that claims GPUs is refused, not merged into a CPU-only container.
        var claimed = ServiceTestBed.Tag(bed.Name("claimed"), bed.Alice);
        var refused = bed.Docker(bed.Alice, "create", "--name", claimed, "--cpus", "1", "--memory", "128m", "--pids-limit", "100", claiming, "true");
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("carries the label ds01.gpu.slots", refused.Err); // ImageCarriesGpuLabels
        Assert.Null(bed.Inspect(claimed));

        // A CUDA-style image's NVIDIA_VISIBLE_DEVICES=all does not reach a CPU-only container; its ds01 labels are cleared.
        var cpu = ServiceTestBed.Tag(bed.Name("cpu"), bed.Alice);
        var made = bed.Docker(bed.Alice, "create", "--name", cpu, "--cpus", "1", "--memory", "128m", "--pids-limit", "100", cuda, "true");
        Assert.True(made.Code == 0, made.All);
        var inspected = bed.Inspect(cpu)!;
        Assert.Equal("NVIDIA_VISIBLE_DEVICES=void", Assert.Single(inspected.Config.Env, e => e.StartsWith("NVIDIA_VISIBLE_DEVICES=", StringComparison.Ordinal)));
        Assert.Equal("", inspected.Config.Labels["ds01.project"]);
        Assert.Equal("", inspected.Config.Labels["aime.mlc.FRAMEWORK"]);
        Assert.Equal("", inspected.Config.Labels.TryGetValue("ds01.gpu.slots", out var s) ? s : "");
        // A request's own holding labels are no way around it either.
        var forged = ServiceTestBed.Tag(bed.Name("forged"), bed.Alice);
        var forging = bed.Docker(bed.Alice, "create", "--name", forged, "--cpus", "1", "--memory", "128m", "--pids-limit", "100",
            "--label", $"ds01.gpu.uuids={Uuid(2)}", "--label", "ds01.gpu.hold_minutes=1e12", ServiceTestBed.Busybox, "true");
        Assert.True(forging.Code == 0, forging.All);
        Assert.Equal("", bed.Inspect(forged)!.Config.Labels["ds01.gpu.uuids"]);
        Assert.Equal("", bed.Inspect(forged)!.Config.Labels["ds01.gpu.hold_minutes"]);

        // Alice's private image is not Bob's, by name or by id.
        var id = DockerTestBed.DockerCli("image", "inspect", "--format", "{{.Id}}", cuda).Out.Trim();
        foreach (var reference in new[] { cuda, id })
        {
            var bobs = ServiceTestBed.Tag(bed.Name("theft"), bed.Bob);
            var theft = bed.Docker(bed.Bob, "create", "--name", bobs, "--cpus", "1", "--memory", "128m", "--pids-limit", "100", reference, "true");
            Assert.NotEqual(0, theft.Code);
            Assert.Contains("belongs to another user", theft.Err); // ImageNotYours
            Assert.Null(bed.Inspect(bobs));
        }
        foreach (var t in new[] { cpu, forged }) Assert.Equal(0, bed.Docker(bed.Alice, "rm", t).Code);
    }

    private static void Build(ServiceTestBed bed, string tag, string lines)
    {
        var dir = Path.Combine(bed.Root, "build-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "Dockerfile"), $"FROM {ServiceTestBed.Busybox}\n{lines}\n");
        var r = DockerTestBed.DockerCli("build", "-q", "-t", tag, dir);
        Assert.True(r.Code == 0, r.Err);
    }
}

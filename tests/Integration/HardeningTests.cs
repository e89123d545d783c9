using System.Diagnostics;
using Docker.DotNet.Models;
using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// What a hostile or unlucky user broke (issue 15), against the real dockerd, real accounts (nobody through
/// setpriv, games for admin-acted creates) and real processes.
/// </summary>
[Collection("engine")]
public class HardeningTests
{
    private static readonly (int, int) Nobody = (65534, 65534);

    private static void Sh(params string[] args)
    {
        using var p = Process.Start(args[0], args.Skip(1))!;
        Assert.True(p.WaitForExit(10_000));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void An_nvidia_smi_that_daemonizes_and_keeps_its_output_open_times_out_and_its_process_group_is_killed()
    {
        var dir = Directory.CreateTempSubdirectory("ds01-smi-daemon-").FullName;
        try
        {
            var pidFile = Path.Combine(dir, "daemon.pid");
            var smi = Path.Combine(dir, "nvidia-smi");
            // Prints a valid answer, leaves a child holding stdout, and exits 0 at once.
            File.WriteAllText(smi, $"#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: GPU-11111111-1111-1111-1111-111111111111)'\nsleep 300 &\necho $! > '{pidFile}'\nexit 0\n");
            File.SetUnixFileMode(smi, (UnixFileMode)0x1ED);
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<Ds01Exception>(() => new GpuInventory(smi, TimeSpan.FromSeconds(2)).Load(null));
            Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 30);
            Assert.Equal((Ds01ErrorKind.OperationTimeout, "GpuInventoryUnavailable"), (e.Kind, e.ErrorId));
            Assert.Contains("process group was killed", e.Message);
            var pid = int.Parse(File.ReadAllText(pidFile).Trim());
            // Gone, or at most a zombie waiting for init to reap it.
            var deadline = Stopwatch.StartNew();
            while (Alive(pid) && deadline.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(50);
            Assert.False(Alive(pid), $"the daemonized child {pid} still runs");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static bool Alive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return false;
        try { return File.ReadAllText(stat).Split(')').Last().Trim()[0] != 'Z'; }
        catch (IOException) { return false; }
    }

    [Fact]
    public void A_non_root_callers_own_config_state_or_nvidia_smi_override_is_refused()
    {
        using var lab = new TempConfig("defaults:\n  gpu_limit: 1\n");
        // nobody's own config makes nobody an admin with a big quota.
        var own = Path.Combine(lab.Root, "mine");
        Directory.CreateDirectory(own);
        File.WriteAllText(Path.Combine(own, "resource-limits.yaml"), "admins: [nobody]\ndefaults:\n  gpu_limit: 99\n");
        var smi = Path.Combine(own, "nvidia-smi");
        File.WriteAllText(smi, "#!/bin/sh\necho 'GPU 0: Fake (UUID: GPU-1)'\n");
        File.SetUnixFileMode(smi, (UnixFileMode)0x1ED);
        Sh("chown", "-R", "65534:65534", own);

        // The lab's root-owned dirs are honoured for nobody (they are what an admin set up).
        var lawful = Ds01Cli.RunWith(lab.Env, Nobody, "-c", "(Get-Ds01ResourceLimit).GpuLimit");
        Assert.Equal(0, lawful.ExitCode);
        Assert.Equal("1", lawful.Out.Trim());

        foreach (var variable in new[] { "DS01_CONFIG_DIR", "DS01_STATE_DIR", "DS01_LOG_DIR" })
        {
            var env = lab.Env;
            env[variable] = own;
            var r = Ds01Cli.RunWith(env, Nobody, "-c", "Get-Ds01ResourceLimit");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("id: EnvironmentOverrideRefused", r.Err);
            Assert.Contains("category: PermissionDenied", r.Err);
            Assert.Contains(variable, r.Err);
        }
        var smiEnv = lab.Env;
        smiEnv["DS01_NVIDIA_SMI"] = smi;
        var gpu = Ds01Cli.RunWith(smiEnv, Nobody, "-c", "Get-Ds01Gpu");
        Assert.Equal(1, gpu.ExitCode);
        Assert.Contains("id: EnvironmentOverrideRefused", gpu.Err);

        // Root may point anywhere (tests and admins rely on that).
        var rootEnv = lab.Env;
        rootEnv["DS01_CONFIG_DIR"] = own;
        var asRoot = Ds01Cli.RunWith(rootEnv, null, "-c", "(Get-Ds01ResourceLimit).GpuLimit");
        Assert.Equal("99", asRoot.Out.Trim());
    }

    [Fact]
    public void Names_that_differ_only_in_case_are_refused_and_name_matching_is_case_sensitive()
    {
        using var bed = new DockerTestBed();
        var lower = bed.Name("thesis");
        var upper = bed.Name("Thesis");
        Assert.Empty(bed.Run($"New-Ds01Container {lower} -Image {DockerTestBed.BusyboxImage} -GpuCount 0").Errors);

        var twin = bed.Run($"New-Ds01Container {upper} -Image {DockerTestBed.BusyboxImage} -GpuCount 0").SingleError();
        Assert.Equal("ContainerNameDiffersInCase", twin.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Null(bed.Inspect($"{upper}._.{bed.Uid}"));

        // A container made outside Ds01 (docker create) with the other case is not selected by the lower-case name.
        Assert.Equal(0, DockerTestBed.DockerCli("create", "--name", $"{upper}._.{bed.Uid}", "--label", $"aime.mlc={Environment.UserName}",
            "--label", $"ds01.user={Environment.UserName}", DockerTestBed.BusyboxImage, "true").Code);
        var removed = bed.Run($"Get-Ds01Container {lower} | Remove-Ds01Container -Force");
        Assert.Empty(removed.Errors);
        Assert.Null(bed.Inspect($"{lower}._.{bed.Uid}"));
        Assert.NotNull(bed.Inspect($"{upper}._.{bed.Uid}"));
        var wrongCase = bed.Run($"Get-Ds01Container {lower.ToUpperInvariant()}").SingleError();
        Assert.Equal("ContainerNotFound", wrongCase.FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Two_racing_creates_of_names_that_differ_only_in_case_cannot_both_pass()
    {
        using var bed = new DockerTestBed();
        var lower = bed.Name("race");
        var upper = bed.Name("Race");
        // The legacy path (busybox has no user setup: run + commit) keeps both creates in their unlocked preparation
        // for a second or more, so both pass the early check; only the one under the allocation lock decides.
        var processes = new[] { lower, upper }.Select(n => Ds01Cli.Start(bed.Env, null, "-c", $"New-Ds01Container {n} -Image {DockerTestBed.BusyboxImage} -GpuCount 0")).ToList();
        var results = processes.Select((p, i) => Ds01Cli.Wait(p, new[] { i.ToString() })).ToList();
        foreach (var p in processes) p.Dispose();
        var made = new[] { lower, upper }.Where(n => bed.Inspect($"{n}._.{bed.Uid}") is not null).ToList();
        Assert.True(made.Count == 1, $"made: {string.Join(", ", made)}; {string.Join(" | ", results.Select(r => r.Err))}");
        var loser = results.Single(r => r.ExitCode != 0);
        Assert.Contains("ContainerNameDiffersInCase", loser.Err);
        // The loser's legacy commit was rolled back; the winner's is there (same naming, so the filter is right).
        string Commit(string n) => DockerTestBed.DockerCli("images", "-q", "--filter", $"reference={DockerTestBed.BusyboxImage.Split(':')[0]}:{n}._.{bed.Uid}").Out.Trim();
        Assert.NotEmpty(Commit(made[0]));
        Assert.Empty(Commit(made[0] == lower ? upper : lower));
    }

    [Fact]
    public void Another_users_private_image_is_off_limits()
    {
        using var bed = new DockerTestBed();
        var project = bed.Name("private").ToLowerInvariant();
        Assert.Empty(bed.Run($"Build-Ds01Image -Project {project} -BaseImage {DockerTestBed.BusyboxImage}").Errors);
        var roots = $"ds01-{bed.Uid}/{project}:latest";
        var id = bed.Engine.InspectImageAsync(roots, CancellationToken.None).GetAwaiter().GetResult()!.ID;

        foreach (var reference in new[] { roots, id })
        {
            var r = Ds01Cli.RunWith(bed.Env, Nobody, "-c", $"New-Ds01Container {bed.Name("steal")} -Image {reference} -GpuCount 0");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("id: ImageNotYours", r.Err);
            Assert.Contains("category: PermissionDenied", r.Err);
        }
        Assert.Null(bed.Inspect($"{bed.Name("steal")}._.65534"));
        // Shared base images stay usable (the check gets past the image to the mount rules of this test config).
        var shared = Ds01Cli.RunWith(bed.Env, Nobody, "-c", $"New-Ds01Container {bed.Name("steal")} -Image {DockerTestBed.BusyboxImage} -GpuCount 0");
        Assert.DoesNotContain("ImageNotYours", shared.Err);
    }

    [Fact]
    public void Nan_and_huge_hold_labels_on_someone_elses_stopped_container_break_nothing()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2);
        foreach (var (stem, hold, slot) in new[] { ("nan", "NaN", 0), ("huge", "1e12", 0) })
        {
            var tag = $"{bed.Name(stem)}._.65534";
            var id = bed.Engine.CreateContainerAsync(new CreateContainerParameters
            {
                Name = tag, Image = DockerTestBed.BusyboxImage, Cmd = ["true"],
                Labels = new Dictionary<string, string>
                {
                    ["aime.mlc"] = "nobody", ["ds01.user"] = "nobody", ["ds01.managed"] = "true",
                    ["ds01.gpu.slots"] = slot.ToString(), ["ds01.gpu.uuids"] = $"GPU-00000000-0000-4000-8000-00000000000{slot}",
                    ["ds01.gpu.hold_minutes"] = hold,
                },
            }, CancellationToken.None).GetAwaiter().GetResult();
            bed.Engine.StartContainerAsync(id, CancellationToken.None).GetAwaiter().GetResult();
            bed.Engine.WaitContainerAsync(id, CancellationToken.None).GetAwaiter().GetResult();
        }

        var gpus = bed.Run("Get-Ds01Gpu");
        Assert.Empty(gpus.Errors);
        Assert.Empty(bed.Run("Get-Ds01Container -AllUsers").Errors);
        Assert.Empty(bed.Run("Get-Ds01GpuAllocation").Errors);
        // GPU 0 is held (the hold of 1e12 reads as the longest allowed, a year); a new GPU create gets GPU 1.
        var created = bed.Run($"New-Ds01Container {bed.Name("gpu")} -Image {DockerTestBed.BusyboxImage} -GpuCount 1 -PassThru");
        Assert.Empty(created.Errors);
        Assert.Equal("1", bed.Inspect(bed.Tag("gpu"))!.Config!.Labels["ds01.gpu.slots"]);
    }
}

/// <summary>What a container may do to the host, and what an image may claim (issue 15).</summary>
[Collection("engine")]
public class ContainerHardeningTests
{
    private static readonly Core.Identity.UserIdentity Games = new Core.Identity.OsIdentitySource().FindByName("games")!;

    [Fact]
    public void Without_sudo_nothing_inside_a_container_gains_privileges()
    {
        // Root inside (sudo, or any setuid program) could leave a setuid-root file in the bind-mounted workspace and
        // run it on the host. no-new-privileges keeps every process at the owner's uid, setuid programs included.
        using var bed = new DockerTestBed();
        var name = bed.Name("nnp");
        Assert.Empty(bed.Run($"New-Ds01Container {name} -Image {DockerTestBed.BusyboxImage} -GpuCount 0; Start-Ds01Container {name}").Errors);
        var status = bed.Run($"Invoke-Ds01ContainerCommand {name} -Command cat,/proc/self/status");
        Assert.Empty(status.Errors);
        Assert.Contains(status.Objects<string>(), l => l.Replace("\t", " ").Trim() == "NoNewPrivs: 1");

        // An admin may allow sudo for a group (it is host root unless dockerd remaps user namespaces).
        using var sudo = new DockerTestBed(extraDefaults: "allow_sudo: true");
        var other = sudo.Name("sudo");
        Assert.Empty(sudo.Run($"New-Ds01Container {other} -Image {DockerTestBed.BusyboxImage} -GpuCount 0; Start-Ds01Container {other}").Errors);
        var allowed = sudo.Run($"Invoke-Ds01ContainerCommand {other} -Command cat,/proc/self/status");
        Assert.Contains(allowed.Objects<string>(), l => l.Replace("\t", " ").Trim() == "NoNewPrivs: 0");
    }

    [Fact]
    public void Without_ds01d_a_workspace_swapped_for_a_link_to_etc_after_create_is_refused_at_start_and_nothing_runs()
    {
        // Docker resolves a Binds source at every start, so the path checked at create is checked again before each
        // start (ContainerService.CheckMountsStillAllowed); ds01d closes the window itself (ServiceBindTests).
        using var bed = new DockerTestBed();
        var name = bed.Name("swap");
        var ws = Path.Combine(bed.Config.Root, "ws-" + bed.RunId);
        Directory.CreateDirectory(ws);
        Assert.Empty(bed.Run($"New-Ds01Container {name} -Image {DockerTestBed.BusyboxImage} -GpuCount 0 -Workspace '{ws}'").Errors);
        Assert.Contains(bed.Inspect(bed.Tag("swap"))!.HostConfig.Binds, b => b.StartsWith(ws + ":", StringComparison.Ordinal));

        Directory.Delete(ws);
        File.CreateSymbolicLink(ws, "/etc");
        var start = bed.Run($"Start-Ds01Container {name}");
        var e = start.SingleError();
        Assert.Equal(("MountOutsideAllowedRoots", System.Management.Automation.ErrorCategory.PermissionDenied), (e.FullyQualifiedErrorId.Split(',')[0], e.CategoryInfo.Category));
        Assert.False(bed.Inspect(bed.Tag("swap"))!.State.Running);

        // Put back as a real directory, the same container starts.
        File.Delete(ws);
        Directory.CreateDirectory(ws);
        Assert.Empty(bed.Run($"Start-Ds01Container {name}").Errors);
        Assert.True(bed.Inspect(bed.Tag("swap"))!.State.Running);
    }

    [Fact]
    public void A_setup_container_left_behind_by_an_interrupted_create_is_removed_by_the_next_create()
    {
        using var bed = new DockerTestBed();
        var tag = bed.Tag("leftover");
        // What a dockerd restart between the setup container's create and its removal leaves.
        var stale = $"ds01-setup-{tag}-deadbeef";
        Assert.Equal(0, DockerTestBed.DockerCli("create", "--name", stale, "--label", "ds01.managed=true", DockerTestBed.BusyboxImage, "true").Code);
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("leftover")} -Image {DockerTestBed.BusyboxImage} -GpuCount 0").Errors);
        Assert.Null(bed.Inspect(stale));
        Assert.NotNull(bed.Inspect(tag));
    }

    [Fact]
    public void A_path_with_a_colon_is_refused_by_ds01()
    {
        using var bed = new DockerTestBed();
        var odd = Path.Combine(bed.Config.Root, "a:b");
        Directory.CreateDirectory(odd);
        var e = bed.Run($"New-Ds01Container {bed.Name("colon")} -Image {DockerTestBed.BusyboxImage} -GpuCount 0 -DataPath '{odd}'").SingleError();
        Assert.Equal("MountPathHasColon", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Null(bed.Inspect(bed.Tag("colon")));
    }

    [Fact]
    public void An_image_cannot_claim_gpus_and_a_cpu_only_container_gets_no_gpu_from_the_image()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2);
        var claiming = $"ds01-test/claims-{bed.RunId}:latest";
        var cpu = $"ds01-test/cuda-{bed.RunId}:latest";
        Build(bed, claiming, "LABEL ds01.gpu.slots=\"0,1\" ds01.gpu.uuids=\"GPU-00000000-0000-4000-8000-000000000000\"");
        Build(bed, cpu, "ENV NVIDIA_VISIBLE_DEVICES=all\nLABEL ds01.slice=\"evil.slice\" ds01.protected=\"true\"");
        try
        {
            var refused = bed.Run($"New-Ds01Container {bed.Name("claim")} -Image {claiming} -GpuCount 0").SingleError();
            Assert.Equal("ImageCarriesGpuLabels", refused.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(System.Management.Automation.ErrorCategory.InvalidData, refused.CategoryInfo.Category);
            Assert.Null(bed.Inspect(bed.Tag("claim")));

            Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("cpu")} -Image {cpu} -GpuCount 0").Errors);
            var c = bed.Inspect(bed.Tag("cpu"))!;
            Assert.Equal("void", c.Config!.Env.Last(e => e.StartsWith("NVIDIA_VISIBLE_DEVICES=", StringComparison.Ordinal)).Split('=')[1]);
            Assert.Equal("", c.Config.Labels["ds01.protected"]); // inherited Ds01 labels are cleared
            Assert.Empty(bed.Run("Get-Ds01GpuAllocation").Objects<Ds01GpuAllocation>().Where(a => a.Container == bed.Name("cpu")));
        }
        finally
        {
            foreach (var i in new[] { claiming, cpu }) DockerTestBed.DockerCli("rmi", "-f", i);
        }
    }

    private static void Build(DockerTestBed bed, string tag, string lines)
    {
        var dir = Path.Combine(bed.Config.Root, "build-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "Dockerfile"), $"FROM {DockerTestBed.BusyboxImage}\n{lines}\n");
        var r = DockerTestBed.DockerCli("build", "-q", "-t", tag, dir);
        Assert.True(r.Code == 0, r.Err);
    }
}

/// <summary>GPU slots under faults and contention (issue 15): a killed create, a waiter in the queue.</summary>
[Collection("engine")]
public class GpuFaultTests
{
    [Fact]
    public async Task A_slot_handed_to_a_create_killed_inside_the_lock_stays_reserved_until_dockerd_has_answered()
    {
        using var bed = new DockerTestBed(simulatedGpus: 1);
        var upstream = new Uri(Environment.GetEnvironmentVariable("DOCKER_HOST")!).LocalPath;
        using var proxy = new SlowCreateProxy(Path.Combine(bed.Config.Root, "slow.sock"), upstream, TimeSpan.FromSeconds(8));
        var env = bed.Env;
        env["DOCKER_HOST"] = "unix://" + proxy.Path;

        var first = bed.Name("first");
        using var killed = Ds01Cli.Start(env, null, "-c", $"New-Ds01Container {first} -Image {DockerTestBed.BusyboxImage} -GpuCount 1");
        var exited = killed.WaitForExitAsync();
        var reached = await Task.WhenAny(proxy.CreateSeen.Task, exited, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(reached == proxy.CreateSeen.Task,
            $"the create did not reach the slow daemon: {(exited.IsCompleted ? killed.StandardError.ReadToEnd() + killed.StandardOutput.ReadToEnd() : "still running")} {string.Join(" | ", proxy.Seen)}");
        killed.Kill(); // SIGKILL inside the lock: the kernel releases the lock, dockerd will still make the container
        killed.WaitForExit();

        // Another user asks for the only GPU while dockerd is still making the first container.
        var second = bed.Run($"New-Ds01Container {bed.Name("second")} -Image {DockerTestBed.BusyboxImage} -GpuCount 1 -User games");
        var error = second.SingleError();
        Assert.Equal(System.Management.Automation.ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
        Assert.Null(bed.Inspect($"{bed.Name("second")}._.{new Core.Identity.OsIdentitySource().FindByName("games")!.Uid}"));

        // dockerd finishes the killed create: one container on the slot, never two.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (bed.Inspect(bed.Tag("first")) is null && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal("0", bed.Inspect(bed.Tag("first"))!.Config!.Labels["ds01.gpu.slots"]);
        var holders = bed.Run("Get-Ds01GpuAllocation").Objects<Ds01GpuAllocation>().Where(a => a.Slots == "0").ToList();
        Assert.Equal(first, Assert.Single(holders).Container);

        // Nothing of the killed process is left holding the slot or the lock: once its container is removed the next
        // allocation proceeds at once and gets the same GPU, and no reservation outlives the container it was for.
        Assert.Empty(bed.Run($"Remove-Ds01Container {first} -Force").Errors);
        var next = bed.Run($"New-Ds01Container {bed.Name("next")} -Image {DockerTestBed.BusyboxImage} -GpuCount 1 -PassThru");
        Assert.Empty(next.Errors);
        Assert.Equal("0", bed.Inspect(bed.Tag("next"))!.Config!.Labels["ds01.gpu.slots"]);
        var reservations = Path.Combine(bed.Config.StateDir, "gpu-reservations");
        Assert.Empty(new GpuReservations(bed.Config.StateDir).Live(new HashSet<string>()));
        Assert.True(!Directory.Exists(reservations) || Directory.GetFiles(reservations).Length == 0,
            "left: " + (Directory.Exists(reservations) ? string.Join(", ", Directory.GetFiles(reservations)) : ""));
    }

    [Fact]
    public void A_forged_reservation_counts_only_for_the_account_that_owns_its_file_and_only_within_its_quota()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2);
        var reservations = new GpuReservations(bed.Config.StateDir);
        void Forge(string tag, string user, string slot)
        {
            reservations.Reserve(tag, user, new[] { slot }, new[] { $"GPU-00000000-0000-4000-8000-00000000000{slot}" });
            // Written by nobody (the kernel's owner of the file), whatever the file says.
            using var chown = Process.Start("chown", ["65534:65534", Path.Combine(reservations.Directory, tag + ".json")])!;
            chown.WaitForExit();
            Assert.Equal(0, chown.ExitCode);
        }
        Forge("forged-games._.5", "games", "0");    // claims another account's hold: counts for nobody
        Forge("forged-a._.65534", "nobody", "0");   // nobody's own: counts, against nobody's quota of 1 GPU
        Forge("forged-b._.65534", "nobody", "1");   // past that quota: does not count

        var holders = bed.Run("Get-Ds01GpuAllocation").Objects<Ds01GpuAllocation>().ToList();
        var only = Assert.Single(holders);
        Assert.Equal(("nobody", "0"), (only.User, only.Slots));
        // So the only one a forger held back is their own quota; everyone else still gets the other GPU.
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("after")} -Image {DockerTestBed.BusyboxImage} -GpuCount 1").Errors);
        Assert.Equal("1", bed.Inspect(bed.Tag("after"))!.Config!.Labels["ds01.gpu.slots"]);
    }

    [Fact]
    public void A_newcomer_without_wait_never_takes_the_gpu_a_waiter_ahead_is_queued_for()
    {
        using var bed = new DockerTestBed(simulatedGpus: 1);
        // A live waiter (this test process) of equal priority for one GPU, queued before the newcomer asks.
        var queue = new GpuQueue(bed.Config.StateDir);
        var waiter = queue.Enqueue("games", "waiting._.5", 1, 50, DateTimeOffset.UtcNow.AddMinutes(5), Environment.ProcessId);

        var newcomer = bed.Run($"New-Ds01Container {bed.Name("newcomer")} -Image {DockerTestBed.BusyboxImage} -GpuCount 1");
        var error = newcomer.SingleError();
        Assert.Equal("GpuQueuedAhead", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Null(bed.Inspect(bed.Tag("newcomer")));

        // A queue file that nobody wrote claiming to be games's waiter does not hold anyone back.
        var forged = Path.Combine(queue.Directory, waiter.Id + ".json");
        using (var chown = Process.Start("chown", ["65534:65534", forged])!) chown.WaitForExit();
        Assert.Empty(bed.Run($"New-Ds01Container {bed.Name("newcomer")} -Image {DockerTestBed.BusyboxImage} -GpuCount 1").Errors);
    }
}

/// <summary>
/// A Docker socket in front of the real one that holds each container create (not Ds01's temporary setup
/// containers) for a while before passing it on, as a daemon under load would. A client that dies meanwhile
/// does not stop the request: it already reached the proxy, as it would have reached dockerd.
/// </summary>
internal sealed class SlowCreateProxy : IDisposable
{
    private readonly System.Net.Sockets.Socket _listener;
    private readonly string _upstream;
    private readonly TimeSpan _delay;
    private readonly CancellationTokenSource _stop = new();

    public SlowCreateProxy(string path, string upstream, TimeSpan delay)
    {
        Path = path;
        _upstream = upstream;
        _delay = delay;
        _listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        _listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        _listener.Listen(64);
        _ = Task.Run(AcceptLoop);
    }

    public string Path { get; }
    public TaskCompletionSource<bool> CreateSeen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public List<string> Seen { get; } = new();

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            System.Net.Sockets.Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(System.Net.Sockets.Socket client)
    {
        using var up = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await up.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(_upstream));
        using var clientStream = new System.Net.Sockets.NetworkStream(client, ownsSocket: true);
        using var upStream = new System.Net.Sockets.NetworkStream(up, ownsSocket: false);
        // dockerd closes after answering (Connection: close); the client reads to the end, so pass the close on.
        var back = Task.Run(async () =>
        {
            try { await upStream.CopyToAsync(clientStream); client.Shutdown(System.Net.Sockets.SocketShutdown.Send); }
            catch (Exception) { }
        });
        var buffer = new byte[65536];
        var delayed = false;
        try
        {
            while (true)
            {
                int n;
                try { n = await clientStream.ReadAsync(buffer); }
                catch (Exception) { n = 0; }
                if (n == 0) break; // the client is gone; what it sent is passed on all the same
                var text = System.Text.Encoding.ASCII.GetString(buffer, 0, n);
                lock (Seen) Seen.Add(text.Split('\n')[0]);
                if (!delayed && text.Contains("/containers/create", StringComparison.Ordinal) && !text.Contains("name=ds01-setup-", StringComparison.Ordinal))
                {
                    delayed = true;
                    CreateSeen.TrySetResult(true);
                    await Task.Delay(_delay);
                }
                await upStream.WriteAsync(buffer.AsMemory(0, n));
            }
            await back.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception) { /* test teardown */ }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}

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
        Assert.Equal("1", bed.Inspect(bed.Tag("gpu"))!.Config.Labels["ds01.gpu.slots"]);
    }
}

using System.Diagnostics;
using Ds01.Core.Docker;
using Docker.DotNet.Models;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// A real dockerd (DOCKER_HOST, started by scripts/test-dockerd.sh or .ci/run), a throw-away config tree and
/// cleanup of every container a test made. An unreachable daemon fails the test: integration tests never skip.
/// </summary>
public sealed class DockerTestBed : IDisposable
{
    private const string ProjectPlaceholder = "{project}";
    public const string BusyboxImage = "ds01-test/busybox:latest";

    /// <param name="dockerHost">another daemon than $DOCKER_HOST's (a test's own <see cref="PrivateDockerd"/>)</param>
    public DockerTestBed(string? extraLimits = null, int simulatedGpus = 0, string? extraDefaults = null, string? dockerHost = null)
    {
        _dockerHost = dockerHost;
        Config = new TempConfig();
        Workspaces = Path.Combine(Config.Root, "ws");
        Directory.CreateDirectory(Workspaces);
        // Base defaults, overridden key by key by extraDefaults ("key: value" lines).
        var defaults = new Dictionary<string, string>
        {
            ["cpu_limit"] = "1.5", ["memory_limit"] = "256M", ["shm_size"] = "64M", ["pids_limit"] = "200",
            ["max_containers"] = "50", ["gpu_limit"] = "1",
        };
        foreach (var line in (extraDefaults ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':');
            defaults[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        Config.Write("resource-limits.yaml",
            "defaults:\n" + string.Concat(defaults.Select(kv => $"  {kv.Key}: {kv.Value}\n")) +
            (extraLimits ?? "") + "\n" +
            $"workspace_root: \"{Workspaces}/{ProjectPlaceholder}\"\n" +
            $"dockerfiles_root: \"{Config.Root}/dockerfiles\"\n" +
            $"allowed_mount_roots: [\"{Config.Root}\"]\n" +
            // This sandbox's hard memlock limit is 8 MiB and dockerd cannot raise it; production keeps -1.
            "ulimits:\n  memlock: 8388608\n");
        if (simulatedGpus > 0)
            Config.Write("gpu-config.yaml", "attach: simulated\nlock_timeout_seconds: 30\ngpus:\n" + string.Concat(Enumerable.Range(0, simulatedGpus)
                .Select(i => $"  - {{ index: {i}, uuid: GPU-00000000-0000-4000-8000-00000000000{i}, model: Simulated H100 80GB, memory_mib: 81559 }}\n")));
        Engine = new DockerEngine(dockerHost);
        try
        {
            Engine.GetSystemInfoAsync(CancellationToken.None).Wait(TimeSpan.FromSeconds(10));
        }
        catch (Exception e)
        {
            Assert.Fail($"No Docker engine at {Engine.Endpoint} ({e.GetBaseException().Message}). " +
                        "Start one with: eval \"$(sudo scripts/test-dockerd.sh start)\"");
        }
        RunId = Guid.NewGuid().ToString("N")[..6];
    }

    private readonly string? _dockerHost;

    public TempConfig Config { get; }
    /// <summary>Where Build-Ds01Image keeps project Dockerfiles in this test's config (not the runner's ~/dockerfiles).</summary>
    public string Dockerfiles => Path.Combine(Config.Root, "dockerfiles");
    public string Workspaces { get; }
    public DockerEngine Engine { get; }
    public string RunId { get; }
    public int Uid { get; } = new Core.Identity.OsIdentitySource().Current().Uid;

    /// <summary>A container name unique to this test run.</summary>
    public string Name(string stem) => $"{stem}-{RunId}";
    public string Tag(string stem) => $"{Name(stem)}._.{Uid}";

    public Dictionary<string, string?> Env
    {
        get
        {
            var env = Config.Env;
            env["DOCKER_HOST"] = _dockerHost ?? Environment.GetEnvironmentVariable("DOCKER_HOST");
            return env;
        }
    }

    public PsResult Run(string script) => PsEngine.Run(script, Env);

    public ContainerInspectResponse? Inspect(string tag) => Engine.InspectContainerAsync(tag, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>The docker CLI, with arguments passed as a list (no shell).</summary>
    public static (int Code, string Out, string Err) DockerCli(params string[] args)
    {
        var psi = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        try
        {
            var mine = Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
                .Where(c => c.Names.Any(n => n.Contains(RunId, StringComparison.Ordinal))).ToList();
            var usedImages = mine.Select(c => c.ImageID).ToHashSet(StringComparer.Ordinal);
            foreach (var c in mine) Engine.RemoveContainerAsync(c.ID, force: true, CancellationToken.None).GetAwaiter().GetResult();
            // Project images and legacy commits carry the run id in their repository or tag.
            var images = Engine.ListImagesAsync(CancellationToken.None).GetAwaiter().GetResult()
                .SelectMany(i => i.RepoTags ?? []).Where(t => t.Contains(RunId, StringComparison.Ordinal));
            foreach (var t in images)
            {
                try { Engine.RemoveImageAsync(t, force: true, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (Core.Ds01Exception) { /* removed with another tag of the same image */ }
            }
            // A rebuild (Update-Ds01Image) moves the tag and leaves the old image untagged; it is ours when one of our
            // containers ran it or its ds01.project label carries the run id. Tagged images are never touched here.
            var dangling = Engine.ListImagesAsync(CancellationToken.None).GetAwaiter().GetResult()
                .Where(i => (i.RepoTags ?? []).All(t => t == "<none>:<none>"))
                .Where(i => usedImages.Contains(i.ID)
                    || (i.Labels?.TryGetValue("ds01.project", out var project) == true && project.Contains(RunId, StringComparison.Ordinal)));
            foreach (var i in dangling)
            {
                try { Engine.RemoveImageAsync(i.ID, force: false, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (Core.Ds01Exception) { /* still a parent of another image */ }
            }
        }
        catch (Exception) { /* the daemon is gone; nothing left to clean */ }
        Engine.Dispose();
        Config.Dispose();
    }
}

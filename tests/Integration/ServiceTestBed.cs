using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ds01.Core.Docker;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// A real ds01d in the foreground (`ds01d run` with temp dirs) in front of the test dockerd (DOCKER_HOST), and two
/// real unprivileged accounts made with useradd (not in the docker group) whose commands run in a mount namespace
/// where dockerd's socket directory is hidden (ServiceAsUser.sh), so the service is their only way to Docker.
/// Everything it creates (service, accounts, homes, containers, images, temp dirs) is removed on dispose.
/// </summary>
public sealed class ServiceTestBed : IDisposable
{
    public const string Busybox = DockerTestBed.BusyboxImage;
    [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
    [DllImport("libc")] private static extern uint geteuid();
    private const int SigTerm = 15;

    private readonly Process? _service;
    private readonly List<string> _accounts = new();

    public ServiceTestBed() : this(startService: true) { }

    /// <param name="startService">False: accounts, dirs and config only; the caller starts its own ds01d (ClusterServiceTestBed, one per node).</param>
    internal ServiceTestBed(bool startService)
    {
        Assert.True(geteuid() == 0, "The ds01d tests create OS accounts and run the service as root (CI does); run them as root.");
        DockerHost = Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "";
        Assert.True(DockerHost.StartsWith("unix://", StringComparison.Ordinal),
            "No test dockerd: start one with eval \"$(sudo scripts/test-dockerd.sh start)\" (DOCKER_HOST must be a unix socket).");
        Engine = new DockerEngine(DockerHost);
        try { Engine.GetSystemInfoAsync(CancellationToken.None).Wait(TimeSpan.FromSeconds(10)); }
        catch (Exception e) { Assert.Fail($"No Docker engine at {DockerHost}: {e.GetBaseException().Message}"); }
        DockerSocketDir = Path.GetDirectoryName(DockerHost["unix://".Length..])!;

        RunId = Guid.NewGuid().ToString("N")[..6];
        Root = Path.Combine(Path.GetTempPath(), $"ds01-svc-{RunId}");
        try
        {
            Alice = CreateAccount($"ds01s{RunId}a");
            Bob = CreateAccount($"ds01s{RunId}b");

            ConfigDir = Path.Combine(Root, "etc");
            StateDir = Path.Combine(Root, "state");
            LogDir = Path.Combine(Root, "log");
            foreach (var d in new[] { Root, ConfigDir, LogDir }) { Directory.CreateDirectory(d); File.SetUnixFileMode(d, (UnixFileMode)0b111_101_101); }
            Directory.CreateDirectory(StateDir);
            File.SetUnixFileMode(StateDir, (UnixFileMode)0b111_000_000);
            Socket = Path.Combine(Root, "docker.sock");
            // Under /run (root's, 0755) as in production, not under /tmp: nothing above it is user-writable.
            BindsDir = $"/run/ds01-binds-{RunId}";
            WriteConfig(ConfigDir);
            File.WriteAllText(EventLog, "");
            File.SetUnixFileMode(EventLog, (UnixFileMode)0b110_100_100);

            if (startService)
            {
                _service = StartService(Socket, out var log);
                ServiceLog = log;
            }
        }
        catch
        {
            // xunit does not dispose a fixture whose constructor failed: remove the accounts and dirs here.
            Cleanup();
            throw;
        }
    }

    public string RunId { get; }
    public string DockerHost { get; }
    public string DockerSocketDir { get; }
    public DockerEngine Engine { get; }
    public Account Alice { get; } = null!;
    public Account Bob { get; } = null!;
    public string Root { get; }
    public string ConfigDir { get; } = "";
    public string StateDir { get; } = "";
    public string LogDir { get; } = "";
    public string Socket { get; } = "";
    /// <summary>ds01d's --binds directory (BindMounter): the checked bind sources are mounted under it.</summary>
    public string BindsDir { get; } = "";
    public string EventLog => Path.Combine(LogDir, "events.jsonl");
    public StringWriter ServiceLog { get; } = new();

    public sealed record Account(string Name, int Uid, int Gid, string Home);

    public sealed record Result(int Code, string Out, string Err)
    {
        public string All => Out + Err;
    }

    public static string ServiceDll
    {
        get
        {
            var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
            return Path.Combine(RepoPaths.Root, "src", "Ds01.Service", "bin", config, "net10.0", "ds01d.dll");
        }
    }

    /// <summary>A name unique to this run, for containers and projects.</summary>
    public string Name(string stem) => $"{stem}{RunId}";

    public static string Tag(string name, Account a) => $"{name}._.{a.Uid}";

    private void WriteConfig(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "resource-limits.yaml"),
            "defaults:\n  cpu_limit: 1\n  memory_limit: 256M\n  shm_size: 64M\n  pids_limit: 200\n  max_containers: 6\n  gpu_limit: 1\n" +
            "groups:\n  students:\n    aggregate: { cpu: 32, memory: 256G }\n" +
            "allowed_mount_roots: [\"{home}\"]\n" +
            // Bob may run containers as root (allow_sudo): ds01d allows that only on idmapped binds.
            $"users:\n  {Bob.Name}:\n    allow_sudo: true\n" +
            // This sandbox's hard memlock limit is 8 MiB and dockerd cannot raise it; production keeps -1.
            "ulimits:\n  memlock: 8388608\n");
        File.WriteAllText(Path.Combine(dir, "gpu-config.yaml"), "attach: simulated\nlock_timeout_seconds: 30\ngpus:\n" + string.Concat(Enumerable.Range(0, 3)
            .Select(i => $"  - {{ index: {i}, uuid: GPU-00000000-0000-4000-8000-00000000000{i}, model: Simulated H100 80GB, memory_mib: 81559 }}\n")));
        foreach (var f in Directory.GetFiles(dir)) File.SetUnixFileMode(f, (UnixFileMode)0b110_100_100);
    }

    public Process StartService(string socket, out StringWriter log, params string[] extra) => StartService(socket, DockerHost, out log, extra);

    /// <param name="docker">The dockerd ds01d fronts (a SlowCreateProxy in front of the test dockerd, say).</param>
    public Process StartService(string socket, string docker, out StringWriter log, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ServiceDll, "run", "--socket", socket, "--docker", docker, "--config", ConfigDir, "--state", StateDir, "--log", LogDir, "--binds", BindsDir })
            psi.ArgumentList.Add(a);
        foreach (var a in extra) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        var sink = new StringWriter();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (sink) sink.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (sink) sink.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!DockerEndpointResolver.IsServiceNow(socket))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                Assert.Fail($"ds01d did not come up on {socket}: {sink}");
            }
            Thread.Sleep(100);
        }
        log = sink;
        return process;
    }

    /// <summary>SIGTERM, as systemd stops it; returns the exit code.</summary>
    public static int Stop(Process service)
    {
        kill(service.Id, SigTerm);
        if (!service.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            service.Kill(entireProcessTree: true);
            Assert.Fail("ds01d did not stop within 20 s of SIGTERM");
        }
        service.WaitForExit();
        return service.ExitCode;
    }

    private Account CreateAccount(string name)
    {
        var r = RunRoot("useradd", "-m", "-U", "-s", "/bin/sh", name);
        Assert.True(r.Code == 0, $"useradd {name}: {r.All}");
        _accounts.Add(name);
        var id = RunRoot("id", "-u", name).Out.Trim();
        var gid = RunRoot("id", "-g", name).Out.Trim();
        return new Account(name, int.Parse(id), int.Parse(gid), $"/home/{name}");
    }

    public static Result RunRoot(string file, params string[] args) => Exec(file, args, null);

    /// <summary>Runs a program as the account, with DOCKER_HOST at the service and dockerd's socket out of reach.</summary>
    public Result As(Account a, string file, IEnumerable<string> args, IDictionary<string, string?>? env = null, string? stdin = null)
    {
        var (all, e) = AsCommand(a, file, args, env);
        return Exec("unshare", all, e, stdin);
    }

    /// <summary>As <see cref="As"/>, but started, not waited for (to be killed, or to wait in the GPU queue meanwhile); output redirected.</summary>
    public Process Spawn(Account a, string file, IEnumerable<string> args, IDictionary<string, string?>? env = null)
    {
        var (all, e) = AsCommand(a, file, args, env);
        var psi = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var x in all) psi.ArgumentList.Add(x);
        foreach (var (k, v) in e)
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        return p;
    }

    private (List<string> Args, Dictionary<string, string?> Env) AsCommand(Account a, string file, IEnumerable<string> args, IDictionary<string, string?>? env)
    {
        var all = new List<string> { "--mount", "--propagation", "private", "--", "bash", Path.Combine(RepoPaths.Root, "tests", "Integration", "ServiceAsUser.sh"),
            DockerSocketDir, a.Name, "--", file };
        all.AddRange(args);
        var e = new Dictionary<string, string?>
        {
            ["DOCKER_HOST"] = "unix://" + Socket, ["HOME"] = a.Home, ["USER"] = a.Name, ["LOGNAME"] = a.Name, ["NO_COLOR"] = "1",
            ["DS01_CONFIG_DIR"] = ConfigDir, ["DS01_STATE_DIR"] = null, ["DS01_LOG_DIR"] = null, ["DOCKER_CONFIG"] = Path.Combine(a.Home, ".docker"),
            ["DOTNET_CLI_HOME"] = a.Home, ["DOTNET_NOLOGO"] = "1",
        };
        if (env is not null) foreach (var (k, v) in env) e[k] = v;
        return (all, e);
    }

    public Result Docker(Account a, params string[] args) => As(a, "docker", args);

    public Result Curl(Account a, string method, string path, string? body = null)
    {
        var args = new List<string> { "-s", "-o", "-", "-w", "\nHTTP %{http_code}", "--unix-socket", Socket, "-X", method, "http://ds01" + path };
        if (body is not null) { args.AddRange(new[] { "-H", "Content-Type: application/json", "--data-binary", "@-" }); }
        return As(a, "curl", args, stdin: body);
    }

    public Result Ds01(Account a, string script, IDictionary<string, string?>? env = null) => As(a, "dotnet", new[] { Ds01Cli.Dll, "-c", script }, env);

    private static Result Exec(string file, IEnumerable<string> args, IDictionary<string, string?>? env, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env)
            {
                if (v is null) psi.Environment.Remove(k);
                else psi.Environment[k] = v;
            }
        using var p = Process.Start(psi)!;
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(180)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not exit");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public IReadOnlyList<JsonElement> Events()
    {
        var lines = File.ReadAllLines(EventLog).Where(l => l.Length > 0);
        return lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    public Docker.DotNet.Models.ContainerInspectResponse? Inspect(string tag) => Engine.InspectContainerAsync(tag, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Quota-conforming docker run options.</summary>
    public static readonly string[] Limits = { "--cpus", "1", "--memory", "128m", "--pids-limit", "100" };

    /// <summary>Mount points under <see cref="BindsDir"/> (ds01d's binds of the checked sources).</summary>
    public IReadOnlyList<string> BindMounts() => File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4])
        .Where(m => m.StartsWith(BindsDir + "/", StringComparison.Ordinal)).ToList();

    /// <summary>Containers removed straight through dockerd leave ds01d's binds: unmount them before anything is deleted, never deleting through a mount.</summary>
    private void UnmountBinds()
    {
        if (BindsDir.Length == 0) return;
        for (var i = 0; i < 5 && BindMounts().Count > 0; i++)
            foreach (var m in BindMounts()) RunRoot("umount", "-l", m);
        if (BindMounts().Count == 0 && Directory.Exists(BindsDir))
            try { Directory.Delete(BindsDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        try { if (_service is not null) Stop(_service); } catch (Exception) { }
        Cleanup();
    }

    private void Cleanup()
    {
        try
        {
            var mine = Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
                .Where(c => c.Names.Any(n => n.Contains(RunId, StringComparison.Ordinal)));
            foreach (var c in mine) Engine.RemoveContainerAsync(c.ID, force: true, CancellationToken.None).GetAwaiter().GetResult();
            var images = Engine.ListImagesAsync(CancellationToken.None).GetAwaiter().GetResult()
                .SelectMany(i => i.RepoTags ?? []).Where(t => t.Contains(RunId, StringComparison.Ordinal));
            foreach (var t in images)
            {
                try { Engine.RemoveImageAsync(t, force: true, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (Core.Ds01Exception) { }
            }
        }
        catch (Exception) { }
        UnmountBinds();
        foreach (var a in _accounts) RunRoot("userdel", "-r", a);
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Engine.Dispose();
    }
}

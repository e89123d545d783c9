using System.Diagnostics;
using System.Globalization;
using System.Management.Automation.Runspaces;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Ds01.Core.Images;

// Whole operations against the dockerd in DOCKER_HOST, each next to what a user would do without Ds01, and the
// report that bench/run-all.sh writes from them. Medians of interleaved runs, one warm-up each.
//   Ds01.Bench.Operations measure --out FILE [--containers 200] [--runs 15] [--cold-runs 9] [--decision 0,50,200,1000] [--warmup 1|0]
//   Ds01.Bench.Operations render --dir DIR [--readme README.md]
var opts = Options.Parse(args.Skip(1));
return args.FirstOrDefault() switch
{
    "measure" => await Measure.RunAsync(opts),
    "render" => Report.Render(opts),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Ds01.Bench.Operations measure --out FILE [--containers N] [--runs N] [--cold-runs N] [--decision 0,50,...]\n" +
                            "       Ds01.Bench.Operations render --dir DIR [--readme FILE]");
    return 2;
}

public sealed class Options
{
    private readonly Dictionary<string, string> _v = new();
    public static Options Parse(IEnumerable<string> args)
    {
        var o = new Options();
        var a = args.ToList();
        for (var i = 0; i < a.Count; i++)
        {
            if (!a[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= a.Count) throw new ArgumentException($"expected --name value, got '{a[i]}'");
            o._v[a[i][2..]] = a[++i];
        }
        return o;
    }
    public string? Get(string name) => _v.GetValueOrDefault(name);
    public string Require(string name) => Get(name) ?? throw new ArgumentException($"--{name} is required");
    public int Int(string name, int fallback) => Get(name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;
}

/// <summary>One comparison: Ds01's way and the plain Docker way of the same thing, medians in ms.</summary>
public sealed record Measurement(string Id, string What, double Ds01Ms, string? Baseline, double? BaselineMs, int Runs, string Note);

public static class Stats
{
    public static double Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToList();
        if (s.Count == 0) throw new InvalidOperationException("no samples");
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}

public static class Measure
{
    private const string BaseImage = "ds01-test/busybox:latest";
    /// <summary>One unmeasured run of each way first (off in smoke runs, which only prove the suite works).</summary>
    private static bool Warmup = true;

    public static async Task<int> RunAsync(Options o)
    {
        var outFile = o.Require("out");
        var count = o.Int("containers", 200);
        var runs = Math.Max(1, o.Int("runs", 15));
        var coldRuns = Math.Max(1, o.Int("cold-runs", 9));
        Warmup = o.Int("warmup", 1) != 0;
        var decisions = (o.Get("decision") ?? "0,50,200,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).Order().ToList();
        var root = FindRoot();
        var pwsh = FindPwsh();
        var ds01 = Path.Combine(root, "src", "Ds01.Cli", "bin", "Release", "net10.0", "ds01");
        var manifest = Path.Combine(root, "out", "Ds01", "Ds01.psd1");
        foreach (var f in new[] { ds01, manifest })
            if (!File.Exists(f)) throw new FileNotFoundException($"{f} is missing: run dotnet build Ds01.sln -c Release first");

        // A private config, state and log: a simulated 4-GPU server, room for every container the run makes.
        var work = Path.Combine(Path.GetTempPath(), "ds01-bench-ops-" + Guid.NewGuid().ToString("N")[..8]);
        var paths = new Ds01Paths(Path.Combine(work, "etc"), Path.Combine(work, "state"), Path.Combine(work, "log"));
        foreach (var d in new[] { paths.ConfigDir, paths.StateDir, paths.LogDir }) Directory.CreateDirectory(d);
        // The sandbox cannot raise memlock (see tests/Integration/DockerTestBed.cs); production keeps -1.
        File.WriteAllText(paths.ResourceLimitsFile, $"""
            defaults:
              max_containers: 5000
              gpu_limit: 4
            workspace_root: "{work}/ws/{"{project}"}"
            dockerfiles_root: "{work}/dockerfiles"
            allowed_mount_roots: ["{work}"]
            ulimits:
              memlock: 8388608
            """);
        File.WriteAllText(Path.Combine(paths.ConfigDir, "gpu-config.yaml"), "attach: simulated\ngpus:\n" + string.Concat(Enumerable.Range(0, 4)
            .Select(i => $"  - {{ index: {i}, uuid: GPU-00000000-0000-4000-8000-00000000000{i}, model: Simulated A100 80GB, memory_mib: 81920 }}\n")));
        Environment.SetEnvironmentVariable("DS01_CONFIG_DIR", paths.ConfigDir);
        Environment.SetEnvironmentVariable("DS01_STATE_DIR", paths.StateDir);
        Environment.SetEnvironmentVariable("DS01_LOG_DIR", paths.LogDir);

        using var engine = new DockerEngine();
        var session = new Ds01Session(paths, new OsIdentitySource());
        var owner = session.Caller;
        var results = new List<Measurement>();
        var made = new List<string>();
        string? fastImage = null;
        var images = new ImageService(session, engine);
        Console.WriteLine($"dockerd {engine.Endpoint}; caller {owner.Name} ({owner.Uid}); {count} containers, {runs} runs, {coldRuns} cold processes, decision at {string.Join(",", decisions)}");
        try
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { manifest });
            using var rs = RunspaceFactory.CreateRunspace(iss);
            rs.Open();

            // ---- listing: Get-Ds01Container vs docker ps, then cold ds01 container-list vs cold docker ps
            var tags = Enumerable.Range(0, count).Select(i => $"bl{i:D4}._.{owner.Uid}").ToList();
            await CreateLabelledAsync(engine, tags, owner, made);
            var listed = 0;
            var list = Pair(runs,
                () => Time(() => listed = Invoke(rs, "Get-Ds01Container").Count),
                () => Run("docker", "ps", "-a", "--format", "{{json .}}"));
            if (listed != count) throw new InvalidOperationException($"Get-Ds01Container returned {listed} of {count} containers");
            results.Add(new("list", $"`Get-Ds01Container` (module loaded), {count} containers", list.A, "`docker ps -a --format '{{json .}}'`", list.B, runs,
                "in-process cmdlet vs a docker CLI process"));

            var shown = Capture(ds01, "container-list", "--format=simple").Split('\n').Count(l => l.StartsWith("bl", StringComparison.Ordinal));
            if (shown != count) throw new InvalidOperationException($"ds01 container-list showed {shown} of {count} containers");
            var cold = Pair(coldRuns, () => Run(ds01, "container-list"), () => Run("docker", "ps", "-a"));
            results.Add(new("cold-list", $"cold `ds01 container-list`, {count} containers", cold.A, "cold `docker ps -a`", cold.B, coldRuns, "a fresh process each"));
            await RemoveAsync(engine, made);

            // ---- Import-Module Ds01 in a cold pwsh vs an empty module the same way (pwsh's own cost)
            var empty = Path.Combine(work, "Empty", "Empty.psd1");
            Directory.CreateDirectory(Path.GetDirectoryName(empty)!);
            File.WriteAllText(empty, "@{ ModuleVersion = '1.0' }\n");
            const string importScript = "$sw = [Diagnostics.Stopwatch]::StartNew(); Import-Module $env:DS01_BENCH_MANIFEST -ErrorAction Stop; '{0:F3}' -f $sw.Elapsed.TotalMilliseconds";
            double Import(string m)
            {
                Environment.SetEnvironmentVariable("DS01_BENCH_MANIFEST", m);
                return double.Parse(Capture(pwsh, "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", importScript).Trim(), CultureInfo.InvariantCulture);
            }
            var import = Pair(coldRuns, () => Import(manifest), () => Import(empty));
            results.Add(new("import", "`Import-Module Ds01` in a cold `pwsh -NoProfile`", import.A, "`Import-Module` of an empty manifest module", import.B, coldRuns,
                "time inside pwsh around Import-Module, a fresh pwsh each"));

            // ---- create: New-Ds01Container on the fast path vs docker create with the settings Ds01 chose
            var project = "benchops";
            var dockerfile = images.GenerateDockerfile(new DockerfileRequest { Project = project, BaseImage = BaseImage }, owner);
            var built = await images.BuildAsync(project, dockerfile, owner, noCache: false, force: true, new Progress<BuildMessage>(_ => { }), CancellationToken.None);
            fastImage = built.Name;
            var seq = 0;
            string[]? template = null;
            async Task<double> Ds01Create()
            {
                var name = $"bc{seq++:D3}";
                var tag = $"{name}._.{owner.Uid}";
                made.Add(tag);
                var ms = Time(() => Invoke(rs, "New-Ds01Container", ("Name", name), ("Image", fastImage), ("Project", project), ("GpuCount", 0)));
                if (template is null)
                    template = DockerCreateArgs((await engine.InspectContainerAsync(tag, CancellationToken.None))
                        ?? throw new InvalidOperationException($"New-Ds01Container made no {tag}"));
                await engine.RemoveContainerAsync(tag, true, CancellationToken.None);
                made.Remove(tag);
                return ms;
            }
            async Task<double> DockerCreate()
            {
                var tag = $"bd{seq++:D3}._.{owner.Uid}";
                made.Add(tag);
                var ms = Run("docker", new[] { "create", "--name", tag }.Concat(template!).ToArray());
                await engine.RemoveContainerAsync(tag, true, CancellationToken.None);
                made.Remove(tag);
                return ms;
            }
            var ds01Times = new List<double> { await Ds01Create() }; // the first also records the settings for docker create
            var dockerTimes = new List<double> { await DockerCreate() };
            if (Warmup) { ds01Times.Clear(); dockerTimes.Clear(); }
            while (ds01Times.Count < runs) { ds01Times.Add(await Ds01Create()); dockerTimes.Add(await DockerCreate()); }
            results.Add(new("create", "`New-Ds01Container` on the fast path (module loaded, CPU-only)", Stats.Median(ds01Times),
                "`docker create` with the same settings", Stats.Median(dockerTimes), runs,
                $"same image, user, labels, mounts, ulimits, limits and security options ({template!.Length} CLI arguments); Ds01 adds quota, lock and event"));

            // ---- the GPU decision as a create makes it (lock, list from dockerd, choose, reserve) with N containers
            var gpu = new GpuService(session, engine);
            var limits = session.LimitsFor(owner);
            var existing = 0;
            foreach (var n in decisions)
            {
                var more = Enumerable.Range(existing, n - existing).Select(i => $"bg{i:D4}._.{owner.Uid}").ToList();
                await CreateLabelledAsync(engine, more, owner, made);
                existing = n;
                var req = new GpuPlacementRequest(owner, limits, $"decide._.{owner.Uid}", 1, null, false, TimeSpan.Zero);
                async Task<double> Decide()
                {
                    var sw = Stopwatch.StartNew();
                    var a = await gpu.PlaceAsync(req, x => Task.FromResult(x), CancellationToken.None);
                    var ms = sw.Elapsed.TotalMilliseconds;
                    if (a is null || a.Slots.Count != 1) throw new InvalidOperationException("the decision chose no slot");
                    return ms;
                }
                if (Warmup) await Decide();
                var times = new List<double>();
                for (var i = 0; i < runs; i++) times.Add(await Decide());
                results.Add(new($"decision-{n}", $"GPU decision against dockerd, {n:N0} containers", Stats.Median(times), null, null, runs,
                    "allocation lock + one list call + slot choice + reservation, as in a create"));
            }
        }
        finally
        {
            await RemoveAsync(engine, made);
            if (fastImage is not null) await images.RemoveAsync(fastImage, owner, CancellationToken.None);
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
        File.WriteAllText(outFile, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        foreach (var r in results) Console.WriteLine($"{r.Id}: {r.Ds01Ms:0.0} ms" + (r.BaselineMs is { } b ? $" vs {b:0.0} ms ({r.Ds01Ms / b:0.00}x)" : ""));
        return 0;
    }

    /// <summary>The docker create flags that reproduce what Ds01 asked Docker for (after the name).</summary>
    private static string[] DockerCreateArgs(ContainerInspectResponse c)
    {
        var a = new List<string>();
        var cfg = c.Config!;
        var h = c.HostConfig!;
        if (!string.IsNullOrEmpty(cfg.User)) a.AddRange(new[] { "--user", cfg.User });
        if (!string.IsNullOrEmpty(cfg.Hostname)) a.AddRange(new[] { "--hostname", cfg.Hostname });
        if (!string.IsNullOrEmpty(cfg.WorkingDir)) a.AddRange(new[] { "--workdir", cfg.WorkingDir });
        if (cfg.Tty) a.Add("--tty");
        if (cfg.OpenStdin) a.Add("--interactive");
        foreach (var (k, v) in cfg.Labels ?? new Dictionary<string, string>()) a.AddRange(new[] { "--label", $"{k}={v}" });
        foreach (var e in cfg.Env ?? new List<string>()) a.AddRange(new[] { "--env", e });
        foreach (var b in h.Binds ?? new List<string>()) a.AddRange(new[] { "--volume", b });
        foreach (var m in h.Mounts ?? new List<Mount>())
            a.AddRange(new[] { "--mount", $"type={m.Type},source={m.Source},target={m.Target}" + (m.ReadOnly == true ? ",readonly" : "") });
        foreach (var u in h.Ulimits ?? new List<Ulimit>()) a.AddRange(new[] { "--ulimit", $"{u.Name}={u.Soft}:{u.Hard}" });
        foreach (var s in h.SecurityOpt ?? new List<string>()) a.AddRange(new[] { "--security-opt", s });
        foreach (var cap in h.CapAdd ?? new List<string>()) a.AddRange(new[] { "--cap-add", cap });
        foreach (var cap in h.CapDrop ?? new List<string>()) a.AddRange(new[] { "--cap-drop", cap });
        if (h.Memory > 0) a.AddRange(new[] { "--memory", h.Memory.ToString(CultureInfo.InvariantCulture) });
        if (h.MemorySwap != 0) a.AddRange(new[] { "--memory-swap", h.MemorySwap.ToString(CultureInfo.InvariantCulture) });
        if (h.NanoCPUs > 0) a.AddRange(new[] { "--cpus", (h.NanoCPUs / 1e9).ToString(CultureInfo.InvariantCulture) });
        if (h.PidsLimit is > 0) a.AddRange(new[] { "--pids-limit", h.PidsLimit.Value.ToString(CultureInfo.InvariantCulture) });
        if (h.ShmSize > 0) a.AddRange(new[] { "--shm-size", h.ShmSize.ToString(CultureInfo.InvariantCulture) });
        if (!string.IsNullOrEmpty(h.CgroupParent)) a.AddRange(new[] { "--cgroup-parent", h.CgroupParent });
        if (!string.IsNullOrEmpty(h.NetworkMode) && h.NetworkMode != "default") a.AddRange(new[] { "--network", h.NetworkMode });
        a.Add(cfg.Image);
        a.AddRange(cfg.Cmd ?? new List<string>());
        return a.ToArray();
    }

    private static async Task CreateLabelledAsync(DockerEngine engine, IReadOnlyList<string> tags, UserIdentity owner, List<string> made)
    {
        foreach (var chunk in tags.Chunk(16))
        {
            made.AddRange(chunk);
            await Task.WhenAll(chunk.Select(tag =>
            {
                var name = tag.Split("._.")[0];
                return engine.CreateContainerAsync(new CreateContainerParameters
                {
                    Name = tag, Image = BaseImage,
                    Labels = new Dictionary<string, string>
                    {
                        ["aime.mlc"] = owner.Name, ["aime.mlc.USER"] = owner.Name, ["aime.mlc.NAME"] = name, ["aime.mlc.GPUS"] = "0",
                        ["ds01.managed"] = "true", ["ds01.user"] = owner.Name, ["ds01.user_id"] = owner.Uid.ToString(CultureInfo.InvariantCulture), ["ds01.name"] = name,
                    },
                }, CancellationToken.None);
            }));
        }
    }

    private static async Task RemoveAsync(DockerEngine engine, List<string> made)
    {
        foreach (var chunk in made.ToList().Chunk(16))
            await Task.WhenAll(chunk.Select(async t =>
            {
                try { await engine.RemoveContainerAsync(t, true, CancellationToken.None); }
                catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.NotFound) { }
            }));
        made.Clear();
    }

    /// <summary>Interleaved runs of two ways (drift in the daemon affects both alike), one warm-up each; medians.</summary>
    private static (double A, double B) Pair(int runs, Func<double> a, Func<double> b)
    {
        if (Warmup) { a(); b(); }
        var xa = new List<double>();
        var xb = new List<double>();
        for (var i = 0; i < runs; i++) { xa.Add(a()); xb.Add(b()); }
        return (Stats.Median(xa), Stats.Median(xb));
    }

    private static double Time(Action work)
    {
        var sw = Stopwatch.StartNew();
        work();
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>One cmdlet in the loaded runspace, parameters bound as values (never parsed as script).</summary>
    private static IList<System.Management.Automation.PSObject> Invoke(Runspace rs, string command, params (string Name, object Value)[] parameters)
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = rs;
        ps.AddCommand(command);
        foreach (var (n, v) in parameters) ps.AddParameter(n, v);
        var r = ps.Invoke();
        if (ps.HadErrors) throw new InvalidOperationException($"{command}: {string.Join("; ", ps.Streams.Error)}");
        return r;
    }

    /// <summary>Wall time of a whole process (start to exit), which must succeed.</summary>
    private static double Run(string file, params string[] args)
    {
        var sw = Stopwatch.StartNew();
        Capture(file, args);
        return sw.Elapsed.TotalMilliseconds;
    }

    private static string Capture(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var x in args) psi.ArgumentList.Add(x);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {err.Result}");
        return output;
    }

    private static string FindPwsh()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Where(d => d.Length > 0).Select(d => Path.Combine(d, "pwsh"))
            .Append(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "pwsh"));
        return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException("pwsh not found on PATH or in ~/.dotnet/tools");
    }

    public static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Ds01.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }
}

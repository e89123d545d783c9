using System.Diagnostics;
using System.Globalization;
using System.Management.Automation.Runspaces;
using System.Text;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Events;
using Ds01.Core.Maintenance;

// Get-Ds01Event over generated logs (time and peak memory, 100,000 and 1,000,000 lines) and a maintenance plan
// over 1,000 containers. Usage: dotnet run -c Release --project bench/Events -- [lines=1000000] [runs=5]
var lines = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var runs = args.Length > 1 ? int.Parse(args[1]) : 5;
var root = FindRoot();
var dir = Path.Combine(Path.GetTempPath(), "ds01-bench-events-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    var iss = InitialSessionState.CreateDefault2();
    iss.ImportPSModule(new[] { Path.Combine(root, "out", "Ds01", "Ds01.psd1") });
    using var rs = RunspaceFactory.CreateRunspace(iss);
    rs.Open();
    foreach (var n in new[] { lines / 10, lines })
    {
        var file = Path.Combine(dir, $"events-{n}.jsonl");
        Generate(file, n);
        Console.WriteLine($"{n:N0} lines, {new FileInfo(file).Length / 1e6:0} MB");
        Measure($"  Get-Ds01Event -Path (all {n:N0} events through the pipeline)", () => Invoke(rs, $"Get-Ds01Event -Path '{file}' | Out-Null"));
        Measure("  Get-Ds01Event -Path -Type cleanup.* (1% kept)", () => Invoke(rs, $"Get-Ds01Event -Path '{file}' -Type cleanup.* | Out-Null"));
        Measure("  EventReader (Core), every event", () => EventReader.Read(new[] { file }, null, new EventReadStats()).Count());
    }

    // A maintenance plan over 1,000 containers: 600 running (half idle), 200 stopped with GPUs, 200 created.
    var now = DateTimeOffset.UtcNow;
    var facts = Enumerable.Range(0, 1000).Select(i => new ContainerFacts
    {
        Id = $"id{i}", Tag = $"c{i}._.{1000 + i % 50}", User = $"u{i % 50}",
        State = i < 600 ? ContainerState.Running : i < 800 ? ContainerState.Stopped : ContainerState.Created,
        CreatedAt = now.AddHours(-i % 48), StartedAt = i < 800 ? now.AddHours(-(i % 30)) : null, FinishedAt = i is >= 600 and < 800 ? now.AddMinutes(-i % 40) : null,
        CpuPercent = i % 2 == 0 ? 0.5 : 80, Gpu = i % 4 == 0 ? $"{i % 8}" : "", IdleTimeoutHours = 2, MaxRuntimeHours = 24, OwnerExists = i % 97 != 0,
    }).ToList();
    var snapshot = new MaintenanceSnapshot { Containers = facts };
    var state = new MaintenanceState();
    for (var i = 0; i < 600; i += 2) state.Containers[$"id{i}"] = new ContainerSamples { IdleSince = now.AddHours(-1.5), StartedAt = facts[i].StartedAt, Tag = facts[i].Tag };
    var tasks = MaintenancePlanner.AllTasks;
    var actions = 0;
    var times = new List<double>();
    for (var r = 0; r < 30; r++)
    {
        var sw = Stopwatch.StartNew();
        actions = MaintenancePlanner.Plan(snapshot, state, MaintenanceSettings.Default, now, tasks).Actions.Count;
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    Console.WriteLine($"maintenance plan over 1,000 containers: median {Median(times):0.00} ms ({actions} actions)");
}
finally
{
    Directory.Delete(dir, recursive: true);
}

void Measure(string what, Func<object> work)
{
    work(); // warm-up
    var times = new List<double>();
    long peakManaged = 0;
    for (var r = 0; r < runs; r++)
    {
        GC.Collect();
        var baseline = GC.GetTotalMemory(true);
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() =>
        {
            long max = 0;
            while (!stop.IsCancellationRequested) { max = Math.Max(max, GC.GetTotalMemory(false) - baseline); Thread.Sleep(5); }
            return max;
        });
        var sw = Stopwatch.StartNew();
        work();
        times.Add(sw.Elapsed.TotalMilliseconds);
        stop.Cancel();
        peakManaged = Math.Max(peakManaged, sampler.Result);
    }
    Console.WriteLine($"{what}: median {Median(times) / 1000:0.00} s, peak managed heap growth {peakManaged / 1e6:0.0} MB, process peak {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:0} MB");
}

static int Invoke(Runspace rs, string script)
{
    using var ps = System.Management.Automation.PowerShell.Create();
    ps.Runspace = rs;
    ps.AddScript(script);
    var n = ps.Invoke().Count;
    if (ps.HadErrors) throw new InvalidOperationException(string.Join("; ", ps.Streams.Error));
    return n;
}

static double Median(List<double> xs) { var s = xs.Order().ToList(); return s[s.Count / 2]; }

static void Generate(string file, int n)
{
    var types = new[] { "container.create", "container.start", "container.stop", "gpu.allocate", "gpu.release", "container.remove" };
    var t0 = DateTimeOffset.UtcNow.AddDays(-28);
    using var w = new StreamWriter(file, false, new UTF8Encoding(false), 1 << 20);
    for (var i = 0; i < n; i++)
    {
        var type = i % 100 == 0 ? "cleanup.idle" : types[i % types.Length];
        var at = t0.AddSeconds(i * 2.4).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        w.Write($"{{\"timestamp\":\"{at}\",\"event_type\":\"{type}\",\"schema_version\":\"1\",\"user\":\"user{i % 40}\",\"source\":\"ds01-powershell\"," +
                $"\"details\":{{\"container\":\"project-{i % 300}._.{1000 + i % 40}\",\"gpu\":\"{i % 4}\",\"image\":\"ds01-{1000 + i % 40}/project-{i % 300}:latest\",\"outcome\":\"success\"}}}}\n");
    }
}

static string FindRoot()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "Ds01.sln"))) d = d.Parent;
    return d?.FullName ?? throw new InvalidOperationException("run from inside the repository");
}

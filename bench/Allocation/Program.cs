using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Events;
using Ds01.Core.Gpu;

// Ds01's in-process costs, Docker excluded (BenchmarkDotNet): limit resolution with 5,000 users and 200 groups,
// the GPU slot choice with 0..1,000 containers, label parsing of 1,000 list answers, event reading.
//   dotnet run -c Release --project bench/Allocation -- [--smoke] [--json-out FILE] [BenchmarkDotNet args]
// ShortRun by default (the whole suite in a few minutes on 2 cores); --smoke is BenchmarkDotNet's Dry job (one
// iteration each, seconds: it proves the suite runs, its numbers mean nothing). --json-out writes one compact
// record per case for bench/run-all.sh. Without a --filter every benchmark runs.
var smoke = args.Contains("--smoke");
string? jsonOut = null;
var rest = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--smoke") continue;
    if (args[i] == "--json-out" && i + 1 < args.Length) { jsonOut = args[++i]; continue; }
    rest.Add(args[i]);
}
if (!rest.Contains("--filter")) rest.AddRange(new[] { "--filter", "*" });
var job = (smoke ? Job.Dry : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance);
// Artifacts outside the repository unless asked: nothing of a run lands in the working tree.
var artifacts = Path.Combine(Path.GetTempPath(), "ds01-bdn-" + Environment.ProcessId);
var config = DefaultConfig.Instance.AddJob(job).WithArtifactsPath(artifacts);
var summaries = BenchmarkSwitcher.FromTypes(new[] { typeof(LimitResolution), typeof(SlotChoice), typeof(LabelParsing), typeof(EventReading) })
    .Run(rest.ToArray(), config).ToList();
try { Directory.Delete(artifacts, recursive: true); } catch (IOException) { }

var records = summaries.SelectMany(s => s.Reports).Select(r => new BenchRecord(
    r.BenchmarkCase.Descriptor.Type.Name,
    r.BenchmarkCase.Descriptor.WorkloadMethod.Name,
    r.BenchmarkCase.Parameters.DisplayInfo,
    r.ResultStatistics?.Mean,
    r.ResultStatistics?.Median,
    r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase),
    r.Success)).ToList();
var failed = records.Where(r => !r.Success || r.MeanNs is null).ToList();
foreach (var f in failed) Console.Error.WriteLine($"benchmark failed: {f.Class}.{f.Method} {f.Parameters}");
if (jsonOut is not null)
    File.WriteAllText(jsonOut, JsonSerializer.Serialize(records, new JsonSerializerOptions { WriteIndented = true }));
return records.Count == 0 || failed.Count > 0 ? 1 : 0;

public sealed record BenchRecord(string Class, string Method, string Parameters, double? MeanNs, double? MedianNs, long? AllocatedBytes, bool Success);

/// <summary>
/// resource-limits.yaml with 5,000 users and 200 groups: half the users have an entry of their own (group and a
/// limit), the other half appear only under a group's members, so resolving them scans the groups.
/// </summary>
[MemoryDiagnoser]
public class LimitResolution
{
    private string _yaml = "";
    private ResourceLimitsConfig _config = null!;
    private static readonly string[] NoOsGroups = Array.Empty<string>();

    [GlobalSetup]
    public void Setup()
    {
        var y = new StringBuilder("defaults:\n  gpu_limit: 1\n  cpu_limit: 8\n  memory_limit: 32G\n  max_containers: 3\ndefault_group: g000\ngroups:\n");
        for (var g = 0; g < 200; g++)
        {
            y.Append(CultureInfo.InvariantCulture, $"  g{g:D3}:\n    priority: {1 + g % 100}\n    gpu_limit: {1 + g % 4}\n    members: [");
            // users 2500..4999 are members only: 12 or 13 per group
            y.Append(string.Join(", ", Enumerable.Range(2500, 2500).Where(u => u % 200 == g).Select(u => $"u{u:D4}")));
            y.Append("]\n");
        }
        y.Append("users:\n");
        for (var u = 0; u < 2500; u++) y.Append(CultureInfo.InvariantCulture, $"  u{u:D4}: {{ group: g{u % 200:D3}, max_containers: {1 + u % 5} }}\n");
        _yaml = y.ToString();
        _config = ResourceLimitsConfig.Parse("resource-limits.yaml", _yaml);
        // The benchmark must measure real resolutions: check what they resolve to once.
        if (_config.Users.Count != 2500 || _config.Groups.Count != 200) throw new InvalidOperationException("generated config did not parse as meant");
        if (LimitResolver.Resolve(_config, "u4999", NoOsGroups).Group != "g199") throw new InvalidOperationException("member lookup resolved wrongly");
        if (LimitResolver.Resolve(_config, "u0007", NoOsGroups).MaxContainers != 3) throw new InvalidOperationException("user entry resolved wrongly");
    }

    [Benchmark(Description = "parse 5,000 users / 200 groups")]
    public ResourceLimitsConfig Parse() => ResourceLimitsConfig.Parse("resource-limits.yaml", _yaml);

    [Benchmark(Description = "resolve a user with an entry")]
    public Ds01ResourceLimit ResolveListedUser() => LimitResolver.Resolve(_config, "u0007", NoOsGroups);

    [Benchmark(Description = "resolve a group member (scans 200 groups)")]
    public Ds01ResourceLimit ResolveMember() => LimitResolver.Resolve(_config, "u4999", NoOsGroups);

    [Benchmark(Description = "resolve an unknown user (default group)")]
    public Ds01ResourceLimit ResolveUnknown() => LimitResolver.Resolve(_config, "stranger", NoOsGroups);
}

/// <summary>
/// The allocation decision with N existing containers, Docker excluded: the in-memory engine answers the list
/// call, then the holdings are read from labels and a slot is chosen, as GpuService does under the lock.
/// </summary>
[MemoryDiagnoser]
public class SlotChoice
{
    private IReadOnlyList<Ds01GpuSlot> _slots = Array.Empty<Ds01GpuSlot>();
    private GpuHoldingReader _reader = null!;

    [Params(0, 50, 200, 1000)]
    public int Containers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _slots = BenchData.MixedMigServer();
        _reader = new GpuHoldingReader(new FakeEngine(BenchData.ListAnswers(Containers, _slots)), TimeProvider.System);
        if (Decide().Count != 1) throw new InvalidOperationException("no slot chosen");
    }

    [Benchmark(Description = "read holdings + choose a slot")]
    public IReadOnlyList<Ds01GpuSlot> Decide()
    {
        var holdings = _reader.ReadAsync(_slots, CancellationToken.None).GetAwaiter().GetResult().Select(h => h.Holding).ToList();
        return SlotAllocator.Choose(_slots, holdings, new GpuRequest("user7", 1, null, 2.0, 1.0, AllowFullGpu: true));
    }
}

/// <summary>Labels → Ds01Container for 1,000 list answers (what Get-Ds01Container does after Docker answers).</summary>
[MemoryDiagnoser]
public class LabelParsing
{
    private IList<ContainerListResponse> _list = null!;
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _list = BenchData.ListAnswers(1000, BenchData.MixedMigServer());
        _now = DateTimeOffset.UtcNow;
        if (Map() != 1000) throw new InvalidOperationException("not every answer mapped");
    }

    [Benchmark(Description = "map 1,000 list answers")]
    public int Map()
    {
        var n = 0;
        foreach (var c in _list) if (ContainerMapper.FromList(c, _now).Tag.Length > 0) n++;
        return n;
    }
}

/// <summary>EventReader over a generated 10,000-line events.jsonl in DS01's envelope.</summary>
[MemoryDiagnoser]
public class EventReading
{
    private string _file = "";
    private const int Lines = 10_000;

    [GlobalSetup]
    public void Setup()
    {
        _file = Path.Combine(Path.GetTempPath(), $"ds01-bench-events-{Environment.ProcessId}.jsonl");
        var types = new[] { "container.create", "container.start", "container.stop", "gpu.allocate", "gpu.release", "container.remove" };
        var t0 = DateTimeOffset.UtcNow.AddDays(-6);
        using (var w = new StreamWriter(_file, false, new UTF8Encoding(false)))
            for (var i = 0; i < Lines; i++)
            {
                var type = i % 100 == 0 ? "cleanup.idle" : types[i % types.Length];
                var at = t0.AddSeconds(i * 30).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                w.Write($"{{\"timestamp\":\"{at}\",\"event_type\":\"{type}\",\"schema_version\":\"1\",\"user\":\"user{i % 40}\",\"source\":\"ds01-powershell\"," +
                        $"\"details\":{{\"container\":\"project-{i % 300}._.{1000 + i % 40}\",\"gpu\":\"{i % 4}\",\"outcome\":\"success\"}}}}\n");
            }
        if (ReadAll() != Lines) throw new InvalidOperationException("not every event line was read");
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_file);

    [Benchmark(Description = "read 10,000 events")]
    public int ReadAll() => EventReader.Read(new[] { _file }, null, new EventReadStats()).Count();

    [Benchmark(Description = "read 10,000 events, keep cleanup.* (1%)")]
    public int ReadFiltered() => EventReader.Read(new[] { _file }, new EventFilter { Types = new[] { "cleanup.*" } }, new EventReadStats()).Count();
}

public static class BenchData
{
    /// <summary>The constructed 4x A100 mixed-MIG server: 2 full GPUs + 4 + 7 MIG slots.</summary>
    public static IReadOnlyList<Ds01GpuSlot> MixedMigServer() => GpuInventory.FromStatic(new List<GpuConfigGpu>
    {
        new(0, "GPU-a0", "NVIDIA A100-SXM4-80GB", 81920, Array.Empty<GpuConfigMigInstance>()),
        new(1, "GPU-a1", "NVIDIA A100-SXM4-80GB", 81920, Array.Empty<GpuConfigMigInstance>()),
        new(2, "GPU-a2", "NVIDIA A100-SXM4-80GB", 81920, new GpuConfigMigInstance[]
            { new(0, "3g.40gb", "MIG-20"), new(1, "2g.20gb", "MIG-21"), new(2, "1g.10gb", "MIG-22"), new(3, "1g.10gb", "MIG-23") }),
        new(3, "GPU-a3", "NVIDIA A100-SXM4-80GB", 81920, Enumerable.Range(0, 7).Select(i => new GpuConfigMigInstance(i, "1g.10gb", $"MIG-3{i}")).ToArray()),
    });

    /// <summary>Most containers hold no GPU (CPU work, or long stopped); a few hold slots; all carry our labels.</summary>
    public static IList<ContainerListResponse> ListAnswers(int count, IReadOnlyList<Ds01GpuSlot> slots)
    {
        var list = new List<ContainerListResponse>();
        for (var i = 0; i < count; i++)
        {
            var user = $"user{i % 40}";
            var labels = new Dictionary<string, string>
            {
                ["aime.mlc"] = user, ["aime.mlc.USER"] = user, ["aime.mlc.NAME"] = $"c{i}", ["aime.mlc.GPUS"] = "0",
                ["ds01.managed"] = "true", ["ds01.user"] = user, ["ds01.user_id"] = $"{1000 + i % 40}", ["ds01.name"] = $"c{i}",
                ["ds01.project"] = $"p{i % 30}", ["ds01.created_at"] = "2026-11-30T10:00:00Z", ["ds01.interface"] = "powershell",
            };
            var state = "exited";
            var status = "Exited (0) 3 days ago";
            if (i < 10) { labels["ds01.gpu.slots"] = slots[i].Slot; labels["aime.mlc.GPUS"] = "1"; state = "running"; status = "Up 2 hours"; }
            else if (i % 7 == 0) labels["ds01.gpu.slots"] = slots[i % slots.Count].Slot; // stopped long ago: hold expired
            list.Add(new ContainerListResponse
            {
                ID = $"id{i:D6}", Names = new[] { $"/c{i}._.{1000 + i % 40}" }, Image = "ds01-1000/p:latest", Labels = labels, State = state,
                Status = status, Created = new DateTime(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc),
            });
        }
        return list;
    }
}

/// <summary>Answers the list call from memory; nothing else is called on the decision path.</summary>
public sealed class FakeEngine : IContainerApi
{
    private readonly IList<ContainerListResponse> _list;
    public FakeEngine(IList<ContainerListResponse> list) => _list = list;
    public Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, bool>? labelFilters, CancellationToken ct) => Task.FromResult(_list);
    public Task<IReadOnlyDictionary<string, long>> ContainerSizesAsync(CancellationToken ct) => throw new NotSupportedException();
    public Task PullImageAsync(string reference, IProgress<JSONMessage> progress, CancellationToken ct) => throw new NotSupportedException();
    public Task<ContainerInspectResponse?> InspectContainerAsync(string nameOrId, CancellationToken ct) => throw Unexpected();
    public Task<string> CreateContainerAsync(CreateContainerParameters parameters, CancellationToken ct) => throw Unexpected();
    public Task StartContainerAsync(string id, CancellationToken ct) => throw Unexpected();
    public Task StopContainerAsync(string id, int timeoutSeconds, CancellationToken ct) => throw Unexpected();
    public Task KillContainerAsync(string id, CancellationToken ct) => throw Unexpected();
    public Task PauseContainerAsync(string id, CancellationToken ct) => throw Unexpected();
    public Task UnpauseContainerAsync(string id, CancellationToken ct) => throw Unexpected();
    public Task RemoveContainerAsync(string id, bool force, CancellationToken ct) => throw Unexpected();
    public Task<ContainerStatsResponse?> GetStatsAsync(string id, TimeSpan timeout, CancellationToken ct) => throw Unexpected();
    public Task<ExecResult> ExecAsync(string id, IList<string> command, string? user, CancellationToken ct) => throw Unexpected();
    public Task<string> CommitContainerAsync(CommitContainerChangesParameters parameters, CancellationToken ct) => throw Unexpected();
    public Task<long> WaitContainerAsync(string id, CancellationToken ct) => throw Unexpected();
    public Task<(string StdOut, string StdErr)> GetContainerLogsAsync(string id, CancellationToken ct) => throw Unexpected();
    private static InvalidOperationException Unexpected() => new("not on the allocation decision path");
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Docker.DotNet.Models;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;

// Allocation decision time with N existing containers, Docker excluded: the in-memory engine answers the list
// call, then the holdings are read from labels and a slot is chosen, as GpuService does under the lock.
BenchmarkRunner.Run<AllocationDecision>(
    DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance)), args);

[MemoryDiagnoser]
public class AllocationDecision
{
    private IReadOnlyList<Ds01GpuSlot> _slots = Array.Empty<Ds01GpuSlot>();
    private FakeEngine _engine = null!;
    private GpuHoldingReader _reader = null!;

    [Params(0, 50, 1000)]
    public int Containers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // The constructed 4x A100 mixed-MIG server: 2 full GPUs + 4 + 7 MIG slots.
        var gpus = new List<GpuConfigGpu>
        {
            new(0, "GPU-a0", "NVIDIA A100-SXM4-80GB", 81920, Array.Empty<GpuConfigMigInstance>()),
            new(1, "GPU-a1", "NVIDIA A100-SXM4-80GB", 81920, Array.Empty<GpuConfigMigInstance>()),
            new(2, "GPU-a2", "NVIDIA A100-SXM4-80GB", 81920, new GpuConfigMigInstance[]
                { new(0, "3g.40gb", "MIG-20"), new(1, "2g.20gb", "MIG-21"), new(2, "1g.10gb", "MIG-22"), new(3, "1g.10gb", "MIG-23") }),
            new(3, "GPU-a3", "NVIDIA A100-SXM4-80GB", 81920, Enumerable.Range(0, 7).Select(i => new GpuConfigMigInstance(i, "1g.10gb", $"MIG-3{i}")).ToArray()),
        };
        _slots = GpuInventory.FromStatic(gpus);
        // Most containers hold no GPU (CPU work, or long stopped); a few hold slots; all carry our labels.
        var list = new List<ContainerListResponse>();
        for (var i = 0; i < Containers; i++)
        {
            var labels = new Dictionary<string, string> { ["aime.mlc"] = $"user{i % 40}", ["ds01.managed"] = "true", ["ds01.user"] = $"user{i % 40}" };
            var state = "exited";
            var status = "Exited (0) 3 days ago";
            if (i < 10) { labels["ds01.gpu.slots"] = _slots[i].Slot; state = "running"; status = "Up 2 hours"; }
            else if (i % 7 == 0) labels["ds01.gpu.slots"] = _slots[i % _slots.Count].Slot; // stopped long ago: hold expired
            list.Add(new ContainerListResponse { ID = $"id{i}", Names = new[] { $"/c{i}._.{1000 + i % 40}" }, Labels = labels, State = state, Status = status });
        }
        _engine = new FakeEngine(list);
        _reader = new GpuHoldingReader(_engine, TimeProvider.System);
    }

    [Benchmark]
    public IReadOnlyList<Ds01GpuSlot> Decide()
    {
        var holdings = _reader.ReadAsync(_slots, CancellationToken.None).GetAwaiter().GetResult().Select(h => h.Holding).ToList();
        return SlotAllocator.Choose(_slots, holdings, new GpuRequest("user7", 1, null, 2.0, 1.0, AllowFullGpu: true));
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

using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>CPU and memory percentages as the docker CLI computes them.</summary>
public class StatsCalculatorTests
{
    private static readonly Ds01Container Running = new() { Name = "s", User = "alice", State = ContainerState.Running, Gpu = "0" };

    private static ContainerStatsResponse Sample(ulong cpu, ulong preCpu, ulong sys, ulong preSys, uint online, ulong usage, ulong limit,
        IDictionary<string, ulong>? memStats = null) => new()
    {
        CPUStats = new CPUStats { CPUUsage = new CPUUsage { TotalUsage = cpu }, SystemUsage = sys, OnlineCPUs = online },
        PreCPUStats = new CPUStats { CPUUsage = new CPUUsage { TotalUsage = preCpu }, SystemUsage = preSys },
        MemoryStats = new MemoryStats { Usage = usage, Limit = limit, Stats = memStats ?? new Dictionary<string, ulong>() },
        PidsStats = new PidsStats { Current = 7 },
    };

    [Fact]
    public void Cpu_percent_is_the_share_of_system_time_times_online_cpus()
    {
        // 0.5 s of container CPU in 4 s of system time (all CPUs) on 4 CPUs: 50 %.
        var s = StatsCalculator.From(Running, Sample(1_500_000_000, 1_000_000_000, 8_000_000_000, 4_000_000_000, 4, 100, 1000));
        Assert.Equal(50.0, s.CpuPercent);
        Assert.Equal(7, s.Pids);
        Assert.Equal("0", s.Gpu);
    }

    [Fact]
    public void Memory_leaves_out_the_page_cache_in_cgroup_v2_and_v1()
    {
        var v2 = StatsCalculator.From(Running, Sample(0, 0, 0, 0, 1, 600, 1000, new Dictionary<string, ulong> { ["inactive_file"] = 100 }));
        Assert.Equal((500L, 1000L, 50.0), (v2.MemoryUsageBytes, v2.MemoryLimitBytes, v2.MemoryPercent));
        var v1 = StatsCalculator.From(Running, Sample(0, 0, 0, 0, 1, 600, 2000, new Dictionary<string, ulong> { ["total_inactive_file"] = 200 }));
        Assert.Equal((400L, 20.0), (v1.MemoryUsageBytes, v1.MemoryPercent));
    }

    [Fact]
    public void No_cpu_delta_is_zero_percent_and_no_sample_is_an_empty_row()
    {
        Assert.Equal(0.0, StatsCalculator.From(Running, Sample(5, 5, 10, 5, 2, 0, 0)).CpuPercent);
        Assert.Equal(0.0, StatsCalculator.From(Running, Sample(5, 5, 10, 5, 2, 0, 0)).MemoryPercent);
        var none = StatsCalculator.From(Running, null);
        Assert.Equal(("s", "alice", 0L), (none.Name, none.User, none.MemoryUsageBytes));
    }
}

using Docker.DotNet.Models;

namespace Ds01.Core.Containers;

/// <summary>CPU and memory percentages computed exactly as the docker CLI computes them.</summary>
public static class StatsCalculator
{
    public static Ds01ContainerStats From(Ds01Container c, ContainerStatsResponse? s)
    {
        if (s is null) return new Ds01ContainerStats { Name = c.Name, User = c.User, State = c.State, Gpu = c.Gpu };
        var cpuDelta = (double)(s.CPUStats?.CPUUsage?.TotalUsage ?? 0) - (s.PreCPUStats?.CPUUsage?.TotalUsage ?? 0);
        var sysDelta = (double)(s.CPUStats?.SystemUsage ?? 0) - (s.PreCPUStats?.SystemUsage ?? 0);
        var online = (double)(s.CPUStats?.OnlineCPUs ?? 0);
        if (online == 0) online = s.CPUStats?.CPUUsage?.PercpuUsage?.Count ?? 1;
        var cpu = cpuDelta > 0 && sysDelta > 0 ? cpuDelta / sysDelta * online * 100.0 : 0.0;

        // docker CLI: usage minus page cache (cgroup v1 total_inactive_file, v2 inactive_file).
        var usage = (long)(s.MemoryStats?.Usage ?? 0);
        var st = s.MemoryStats?.Stats;
        if (st is not null)
        {
            if (st.TryGetValue("total_inactive_file", out var v1) && (long)v1 < usage) usage -= (long)v1;
            else if (st.TryGetValue("inactive_file", out var v2) && (long)v2 < usage) usage -= (long)v2;
        }
        var limit = (long)(s.MemoryStats?.Limit ?? 0);
        return new Ds01ContainerStats
        {
            Name = c.Name,
            User = c.User,
            State = c.State,
            CpuPercent = Math.Round(cpu, 2),
            MemoryUsageBytes = usage,
            MemoryLimitBytes = limit,
            MemoryPercent = limit > 0 ? Math.Round(usage * 100.0 / limit, 2) : 0,
            Pids = (long)(s.PidsStats?.Current ?? 0),
            Gpu = c.Gpu,
        };
    }
}

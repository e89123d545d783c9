namespace Ds01.Core.Containers;

/// <summary>One-shot resource use of a container, computed as `docker stats` does.</summary>
public sealed class Ds01ContainerStats
{
    public string Name { get; init; } = "";
    public string? User { get; init; }
    public ContainerState State { get; init; }
    public double CpuPercent { get; init; }
    public long MemoryUsageBytes { get; init; }
    public long MemoryLimitBytes { get; init; }
    public double MemoryPercent { get; init; }
    public long Pids { get; init; }
    public string Gpu { get; init; } = "";

    public override string ToString() => Name;
}

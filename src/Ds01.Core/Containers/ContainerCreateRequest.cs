namespace Ds01.Core.Containers;

/// <summary>What New-Ds01Container asks for; unset values come from config and naming rules.</summary>
public sealed class ContainerCreateRequest
{
    public string Name { get; init; } = "";
    public string? Image { get; init; }
    public string? Project { get; init; }
    public string? Workspace { get; init; }
    public string? DataPath { get; init; }
    public int GpuCount { get; init; }
    public string? Gpu { get; init; }
    public bool Wait { get; init; }
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>The event's "interface" field: how the create was asked for.</summary>
    public string Interface { get; init; } = AtomicInterface;

    public const string AtomicInterface = "atomic";
}

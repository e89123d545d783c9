using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell;

/// <summary>The parameters New-Ds01Container and Deploy-Ds01Container share, and the create request they make.</summary>
public abstract class Ds01ContainerCreateCmdlet : Ds01ContainerCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Image reference; default ds01-{uid}/{project}:latest.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    public string? Image { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string? Project { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Workspace { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DataPath { get; set; }

    /// <summary>GPU slots to allocate; 0 for a CPU-only container.</summary>
    [Parameter]
    [ValidateRange(0, 64)]
    public int GpuCount { get; set; } = 1;

    /// <summary>A specific slot ("0" or "2.1").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(GpuSlotCompleter))]
    public string? Gpu { get; set; }

    /// <summary>Queue for a GPU (by priority, then arrival) instead of failing when none is free.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    [Parameter]
    [ValidateRange(1, 7 * 24 * 3600)]
    public int TimeoutSec { get; set; } = 600;

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>Explain each step first and ask for what is missing.</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Guided) RunGuided();
        else if (!MyInvocation.ExpectingInput) RequireValue(nameof(Name), "Name for the new container");
    }

    /// <summary>What ShouldProcess names: "Create container with 1 GPU slot(s)", "Create and start CPU-only container".</summary>
    protected string CreateAction(string verb) => GpuCount > 0 || Gpu is not null
        ? $"{verb} container with {(Gpu is not null ? $"GPU {Gpu}" : $"{GpuCount} GPU slot(s)")}"
        : $"{verb} CPU-only container";

    protected ContainerCreateRequest CreateRequest(string createdThrough = ContainerCreateRequest.AtomicInterface) => new()
    {
        Name = Name, Image = Image, Project = Project, Workspace = Workspace, DataPath = DataPath,
        GpuCount = GpuCount, Gpu = Gpu, Wait = Wait,
        WaitTimeout = TimeSpan.FromSeconds(TimeoutSec),
        Interface = createdThrough,
    };
}

using System.Management.Automation;
using Ds01.Core.Cluster;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-create: a container with the user's limits fixed at create time (not started).</summary>
[Cmdlet(VerbsCommon.New, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class NewDs01ContainerCommand : Ds01ContainerCmdlet
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

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Explain each step first and ask for what is missing.</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Guided) RunGuided();
        else if (!MyInvocation.ExpectingInput) RequireValue(nameof(Name), "Name for the new container");
    }

    private ClusterContainerCreation ClusterCreation =>
        new(Session, host => host == Engine.Endpoint ? Engine : Track(new Ds01.Core.Docker.DockerEngine(host)));

    private readonly List<IDisposable> _nodeEngines = new();

    private T Track<T>(T engine) where T : IDisposable
    {
        _nodeEngines.Add(engine);
        return engine;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) foreach (var e in _nodeEngines) e.Dispose();
        base.Dispose(disposing);
    }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var owner = Owner(User);
            var what = GpuCount > 0 || Gpu is not null ? $"Create container with {(Gpu is not null ? $"GPU {Gpu}" : $"{GpuCount} GPU slot(s)")}" : "Create CPU-only container";
            if (!ShouldProcess($"{Name} (owner {owner.Name})", what)) return;
            var request = new ContainerCreateRequest
            {
                Name = Name, Image = Image, Project = Project, Workspace = Workspace, DataPath = DataPath,
                GpuCount = GpuCount, Gpu = Gpu, Wait = Wait,
                WaitTimeout = TimeSpan.FromSeconds(TimeoutSec),
            };
            // backend: slurm (cluster.yaml) submits a job and runs the container on the node Slurm picks.
            var c = Session.Config.Cluster.IsSlurm
                ? Await(ClusterCreation.RunAsync(request, owner, Cancellation))
                : AwaitWithProgress(Creation.RunAsync(request, owner, Cancellation));
            ShowFeedback();
            if (PassThru) WriteObject(c);
            else Tell($"Created {c.Name}{(c.Gpu.Length > 0 ? $" with GPU {c.Gpu}" : "")}. Start it with: Start-Ds01Container {c.Name}");
        });
    }
}

using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-deploy: create and start in one step (New-Ds01Container, then Start-Ds01Container); -Open then enters a shell.</summary>
[Cmdlet("Deploy", "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class DeployDs01ContainerCommand : Ds01ContainerCmdlet
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

    [Parameter]
    [ValidateRange(0, 64)]
    public int GpuCount { get; set; } = 1;

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(GpuSlotCompleter))]
    public string? Gpu { get; set; }

    [Parameter]
    public SwitchParameter Wait { get; set; }

    [Parameter]
    [ValidateRange(1, 7 * 24 * 3600)]
    public int TimeoutSec { get; set; } = 600;

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>Enter a shell in the container once it runs (container-run).</summary>
    [Parameter]
    public SwitchParameter Open { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Shell { get; set; }

    /// <summary>Explain each step first and ask for what is missing.</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Guided) RunGuided();
        else if (!MyInvocation.ExpectingInput) RequireValue(nameof(Name), "Name for the new container");
    }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        // Refused before anything is created: a deploy that cannot open its shell changes nothing.
        if (Open && !MyInvocation.BoundParameters.ContainsKey("WhatIf")) InteractiveShell.RequireTerminal("Deploy-Ds01Container", Name);
        var what = GpuCount > 0 || Gpu is not null
            ? $"Create and start container with {(Gpu is not null ? $"GPU {Gpu}" : $"{GpuCount} GPU slot(s)")}"
            : "Create and start CPU-only container";
        if (!ShouldProcess($"{Name} (owner {owner.Name})", what)) return;
        var c = AwaitWithProgress(new ContainerDeployment(Creation, Containers).DeployAsync(new ContainerCreateRequest
        {
            Name = Name, Image = Image, Project = Project, Workspace = Workspace, DataPath = DataPath,
            GpuCount = GpuCount, Gpu = Gpu, Wait = Wait,
            WaitTimeout = TimeSpan.FromSeconds(TimeoutSec),
            Interface = "orchestration",
        }, owner, Cancellation));
        ShowFeedback();
        WriteObject(c);
        if (!Open)
        {
            Tell($"{c.Name} is running{(c.Gpu.Length > 0 ? $" on GPU {c.Gpu}" : "")}. Open a shell with: Enter-Ds01Container {c.Name}");
            return;
        }
        var (id, shell) = Await(Containers.ShellTargetAsync(c.Name, owner, start: false, Shell, Cancellation));
        InteractiveShell.Run(Engine, id, shell);
        Tell($"You left {c.Name}; it is still running. 'exit' ends only your shell. Stop it with Stop-Ds01Container {c.Name} (or remove it when done).");
    });
}

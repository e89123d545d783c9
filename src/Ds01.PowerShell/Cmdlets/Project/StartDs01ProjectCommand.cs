using System.Management.Automation;
using Ds01.Core.Containers;
using Ds01.Core.Projects;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// project-launch: builds the project image from its saved Dockerfile when it is missing, deploys the project's
/// container (or starts it when it exists), optionally opens a shell.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "Ds01Project", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Container))]
public sealed class StartDs01ProjectCommand : Ds01ImageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>The container's name; default the project's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ContainerName { get; set; }

    [Parameter]
    [ValidateRange(0, 64)]
    public int GpuCount { get; set; } = 1;

    [Parameter]
    public SwitchParameter Open { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var name = ContainerName ?? Name;
        if (Open && !MyInvocation.BoundParameters.ContainsKey("WhatIf")) InteractiveShell.RequireTerminal("Start-Ds01Project", name);
        var setup = new ProjectSetup(Session, Engine);
        var plan = Await(setup.PlanAsync(Name, owner, generate: null, Cancellation));
        if (plan.ImageMissing)
        {
            if (!ShouldProcess($"{plan.Image} (owner {owner.Name})", "Build project image")) return;
            RunBuild($"Building {plan.Image}", progress => setup.BuildAsync(plan, noCache: false, progress, Cancellation));
            ShowFeedback();
        }
        var existing = Await(Containers.ListAsync(owner, Cancellation)).FirstOrDefault(c => c.Name == name);
        Ds01Container c;
        if (existing is null)
        {
            if (!ShouldProcess($"{name} (owner {owner.Name})", $"Deploy container of project {Name}")) return;
            c = Await(Deployment.DeployAsync(new ContainerCreateRequest
            {
                Name = name, Project = Name, GpuCount = GpuCount, Interface = "orchestration",
            }, owner, Cancellation));
        }
        else if (existing.State != ContainerState.Running)
        {
            if (!ShouldProcess(name, "Start container")) return;
            c = Await(Containers.StartAsync(name, owner, Cancellation));
        }
        else c = existing;
        ShowFeedback();
        WriteObject(c);
        if (!Open)
        {
            Tell($"{c.Name} is running{(c.Gpu.Length > 0 ? $" on GPU {c.Gpu}" : "")}. Open a shell with: Enter-Ds01Container {c.Name}");
            return;
        }
        var (id, shell) = Await(Containers.ShellTargetAsync(c.Name, owner, start: false, null, Cancellation));
        InteractiveShell.Run(Engine, id, shell);
        Tell($"You left {c.Name}; it is still running. Stop it with Stop-Ds01Container {c.Name} (or remove it when done).");
    });
}

using System.Management.Automation;
using Ds01.Core.Projects;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// project-init: the project's workspace folder, its Dockerfile (generated as New-Ds01Dockerfile does) and, with
/// -Build, its image. Only missing steps are taken, each behind ShouldProcess: a second run changes nothing.
/// </summary>
[Cmdlet(VerbsData.Initialize, "Ds01Project", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Project))]
public sealed class InitializeDs01ProjectCommand : Ds01DockerfileCmdlet
{
    /// <summary>Also build the project image when it does not exist (2-10 minutes for a real framework image).</summary>
    [Parameter]
    public SwitchParameter Build { get; set; }

    [Parameter]
    public SwitchParameter NoCache { get; set; }

    /// <summary>Explain each step first and ask for what is missing.</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        // Before the base asks for -Project, so the explanation comes first and asks for it itself.
        if (Guided) RunGuided();
        base.BeginProcessing();
    }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var setup = new ProjectSetup(Session, Engine);
        var plan = Await(setup.PlanAsync(Project, owner, DockerfileRequest(), Cancellation));
        ShowFeedback();
        var changed = new List<string>();
        if (plan.WorkspaceMissing && ShouldProcess(plan.Workspace, "Create project workspace folder"))
        {
            setup.CreateWorkspace(plan);
            changed.Add("workspace");
        }
        if (plan.DockerfileMissing && ShouldProcess(plan.DockerfilePath, "Write project Dockerfile"))
        {
            setup.WriteDockerfile(plan);
            changed.Add("Dockerfile");
        }
        if (Build && plan.ImageMissing && ShouldProcess($"{plan.Image} (owner {owner.Name})", "Build project image"))
        {
            RunBuild($"Building {plan.Image}", progress => setup.BuildAsync(plan, NoCache, progress, Cancellation));
            changed.Add("image");
        }
        setup.Record(plan, changed);
        ShowFeedback();
        var nothingToDo = !plan.WorkspaceMissing && !plan.DockerfileMissing && !(Build && plan.ImageMissing);
        if (nothingToDo) Tell($"Project {Project} is set up already (workspace, Dockerfile{(plan.ImageMissing ? "" : ", image")}); nothing was changed.");
        else if (changed.Count > 0)
            Tell(plan.ImageMissing && !Build
                ? $"Project {Project}: {string.Join(", ", changed)} ready. Build its image with: Build-Ds01Image {Project} (or Start-Ds01Project {Project}, which builds and deploys)."
                : $"Project {Project}: {string.Join(", ", changed)} ready. Launch it with: Start-Ds01Project {Project}");
        WriteObject(Await(setup.ReadAsync(plan, changed, Cancellation)));
    });
}

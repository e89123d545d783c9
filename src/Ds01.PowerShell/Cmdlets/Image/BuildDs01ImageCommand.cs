using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>image-create: builds ds01-{uid}/{project}:latest with the user baked in, from a generated or given Dockerfile.</summary>
[Cmdlet("Build", "Ds01Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Ds01Image))]
public sealed class BuildDs01ImageCommand : Ds01DockerfileCmdlet
{
    /// <summary>Build this Dockerfile instead of generating one; it is saved as the project's Dockerfile.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    public SwitchParameter NoCache { get; set; }

    /// <summary>Rebuild an image that already exists (e.g. after a UID/GID mismatch warning).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Explain each step first and ask for what is missing.</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        if (Guided) RunGuided();
        base.BeginProcessing();
    }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var target = Images.ProjectReference(owner, Project);
        var text = Images.ChooseDockerfile(owner, Project, Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path),
            Framework is not null || BaseImage is not null ? DockerfileRequest() : null);
        ShowFeedback();
        if (!ShouldProcess($"{target} (owner {owner.Name})", "Build image")) return;
        var stored = Images.KeepDockerfile(owner, Project, text);
        WriteVerbose($"Dockerfile: {stored}");
        var image = RunBuild($"Building {target}", progress => Images.BuildAsync(Project, text, owner, NoCache, Force, progress, Cancellation));
        ShowFeedback();
        WriteObject(image);
    });
}

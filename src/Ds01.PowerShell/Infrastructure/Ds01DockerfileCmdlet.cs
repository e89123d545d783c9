using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell;

/// <summary>The Dockerfile parameters New-Ds01Dockerfile and Build-Ds01Image share (one definition, one behaviour).</summary>
public abstract class Ds01DockerfileCmdlet : Ds01ImageCmdlet
{
    /// <summary>Left out at a terminal: asked for; in a script, a ProjectRequired error.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string Project { get; set; } = "";

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (!MyInvocation.ExpectingInput) RequireValue(nameof(Project), "Project name");
    }

    /// <summary>Catalog framework, e.g. Pytorch (Get-Ds01Framework lists them); not needed with -BaseImage.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FrameworkNameCompleter))]
    public string? Framework { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FrameworkVersion { get; set; }

    /// <summary>Build FROM this image instead of the catalog's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BaseImage { get; set; }

    /// <summary>AIME architecture (CUDA_ADA, CUDA_AMPERE, ...) that picks the catalog row; default from gpu-config.yaml or the GPUs.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Architecture { get; set; }

    [Parameter]
    [ValidateSet("cv", "nlp", "rl", "ml", "custom", IgnoreCase = true)]
    public string UseCase { get; set; } = "custom";

    [Parameter]
    public string[] Package { get; set; } = [];

    [Parameter]
    public SwitchParameter Jupyter { get; set; }

    [Parameter]
    public SwitchParameter DataScience { get; set; }

    /// <summary>Admins: the user whose UID/GID and name the image is set up for.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>Generates the Dockerfile from the parameters; a catalog fallback arrives as a warning in the feedback.</summary>
    protected string GenerateDockerfile(Ds01.Core.Identity.UserIdentity owner)
    {
        var text = Images.GenerateDockerfile(DockerfileRequest(), owner);
        ShowFeedback();
        return text;
    }

    /// <summary>The parameters as Core's Dockerfile request.</summary>
    protected DockerfileRequest DockerfileRequest() => new()
    {
        Project = Project, Framework = Framework, FrameworkVersion = FrameworkVersion, BaseImage = BaseImage,
        Architecture = Architecture, UseCase = ParseUseCase(UseCase), Packages = Package, Jupyter = Jupyter, DataScience = DataScience,
    };
}

using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>Generates a project's Dockerfile (framework → Jupyter → data science → use case → packages → user) without building.</summary>
[Cmdlet(VerbsCommon.New, "Ds01Dockerfile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(string))]
public sealed class NewDs01DockerfileCommand : Ds01ImageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Project { get; set; } = "";

    /// <summary>Catalog framework, e.g. Pytorch; not needed with -BaseImage.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Framework { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FrameworkVersion { get; set; }

    /// <summary>Build FROM this image instead of the catalog's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BaseImage { get; set; }

    /// <summary>AIME architecture (CUDA_ADA, CUDA_AMPERE, ...) that picks the catalog row.</summary>
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
    public string? User { get; set; }

    /// <summary>Also write the text to this file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var (text, warning) = Images.GenerateDockerfile(new DockerfileRequest
        {
            Project = Project, Framework = Framework, FrameworkVersion = FrameworkVersion, BaseImage = BaseImage,
            Architecture = Architecture, UseCase = ParseUseCase(UseCase), Packages = Package, Jupyter = Jupyter, DataScience = DataScience,
        }, owner);
        if (warning is not null) WriteWarning(warning);
        if (OutFile is not null)
        {
            var path = GetUnresolvedProviderPathFromPSPath(OutFile);
            if (ShouldProcess(path, "Write Dockerfile")) File.WriteAllText(path, text);
        }
        WriteObject(text);
    });
}

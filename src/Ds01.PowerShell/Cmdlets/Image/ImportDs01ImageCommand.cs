using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>image-pull: fetches a base image (an AIME framework's, or one named) unless it is here already.</summary>
[Cmdlet(VerbsData.Import, "Ds01Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByFramework)]
[OutputType(typeof(Ds01Image))]
public sealed class ImportDs01ImageCommand : Ds01ImageCmdlet
{
    private const string ByFramework = "Framework";
    private const string ByImage = "Image";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByFramework)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FrameworkNameCompleter))]
    public string Framework { get; set; } = "";

    [Parameter(ParameterSetName = ByFramework)]
    [ValidateNotNullOrEmpty]
    public string? FrameworkVersion { get; set; }

    [Parameter(ParameterSetName = ByFramework)]
    [ValidateNotNullOrEmpty]
    public string? Architecture { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByImage, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Image { get; set; } = "";

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(null);
        var reference = Image;
        if (ParameterSetName == ByFramework)
        {
            var (image, warning) = Images.FrameworkImage(Framework, FrameworkVersion, Architecture);
            if (warning is not null) WriteWarning(warning);
            reference = image;
        }
        ImageReference.Validate(reference);
        if (!ShouldProcess(reference, "Pull image")) return;
        var result = RunBuild($"Pulling {reference}", progress => Images.PullAsync(reference, owner, progress, Cancellation));
        ShowFeedback();
        WriteObject(result);
    });
}

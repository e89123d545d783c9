using System.Management.Automation;
using Ds01.Core;
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

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var target = Images.ProjectReference(owner, Project);
        var stored = Images.DockerfilePath(owner, Project);
        string text;
        if (Path is not null)
        {
            var path = GetUnresolvedProviderPathFromPSPath(Path);
            if (!File.Exists(path))
                throw new Ds01Exception(Ds01ErrorKind.NotFound, "DockerfileNotFound", $"The Dockerfile '{path}' does not exist.", path, "Check -Path.");
            text = File.ReadAllText(path);
        }
        else if (Framework is not null || BaseImage is not null)
        {
            text = GenerateDockerfile(owner);
        }
        else if (File.Exists(stored))
        {
            text = ImageService.ReadStoredDockerfile(stored);
        }
        else
        {
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "FrameworkRequired",
                $"Project '{Project}' has no Dockerfile yet ({stored}).", Project, "Pass -Framework (or -BaseImage, or -Path).");
        }

        if (!ShouldProcess($"{target} (owner {owner.Name})", "Build image")) return;
        // The saved copy is what Update-Ds01Image edits later (~/dockerfiles/<project>.Dockerfile).
        if (!File.Exists(stored) || new FileInfo(stored).LinkTarget is not null || File.ReadAllText(stored) != text)
            Images.SaveDockerfile(stored, text, owner);
        WriteVerbose($"Dockerfile: {stored}");
        var image = RunBuild($"Building {target}", progress => Images.BuildAsync(Project, text, owner, NoCache, Force, progress, Cancellation));
        ShowFeedback();
        WriteObject(image);
    });
}

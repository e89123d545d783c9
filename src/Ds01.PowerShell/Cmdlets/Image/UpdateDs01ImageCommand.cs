using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>image-update: adds or removes extra packages in the project's Dockerfile and rebuilds the image.</summary>
[Cmdlet(VerbsData.Update, "Ds01Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01Image))]
public sealed class UpdateDs01ImageCommand : Ds01ImageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string Project { get; set; } = "";

    [Parameter]
    public string[] AddPackage { get; set; } = [];

    [Parameter]
    public string[] RemovePackage { get; set; } = [];

    /// <summary>Rebuild even when no package changed (after editing the Dockerfile by hand).</summary>
    [Parameter]
    public SwitchParameter Rebuild { get; set; }

    [Parameter]
    public SwitchParameter NoCache { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var target = Images.ProjectReference(owner, Project);
        var what = AddPackage.Length + RemovePackage.Length > 0
            ? $"Update packages (+{string.Join(",", AddPackage)} -{string.Join(",", RemovePackage)}) and rebuild"
            : "Rebuild image";
        if (!ShouldProcess(target, what)) return;
        var image = RunBuild($"Updating {target}", progress =>
            Images.UpdateAsync(Project, owner, AddPackage, RemovePackage, Rebuild, NoCache, progress, Cancellation));
        ShowFeedback();
        WriteObject(image);
    });
}

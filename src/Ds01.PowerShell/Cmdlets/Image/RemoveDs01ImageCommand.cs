using System.Management.Automation;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>image-delete: removes one of the caller's images; refuses while any container uses it.</summary>
[Cmdlet(VerbsCommon.Remove, "Ds01Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByName)]
[OutputType(typeof(void))]
public sealed class RemoveDs01ImageCommand : Ds01ImageCmdlet
{
    private const string ByName = "ByName";
    private const string ByProject = "ByProject";

    /// <summary>Full reference as Get-Ds01Image shows it (ds01-1001/p:latest, or a legacy image:name._.uid).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByName)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByProject)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string Project { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>No confirmation prompt; an image in use is still refused.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var reference = ParameterSetName == ByProject ? Images.ProjectReference(owner, Project) : Name;
        if (!ShouldAct(reference, "Remove image", Force)) return;
        Await(Images.RemoveAsync(reference, owner, Cancellation));
    });
}

using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>image-list: the caller's project images and legacy commits; -All adds the base images.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01Image")]
[OutputType(typeof(Ds01Image))]
public sealed class GetDs01ImageCommand : Ds01ImageCmdlet
{
    /// <summary>Project name; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string? Project { get; set; }

    /// <summary>Include base images (AIME, Docker Hub); admins see every image.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        foreach (var image in Await(Images.ListAsync(owner, All, Project, Cancellation))) WriteObject(image);
    });
}

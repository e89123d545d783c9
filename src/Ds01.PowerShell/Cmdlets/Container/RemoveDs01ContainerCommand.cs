using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// container-remove / container-retire: deletes the container and frees its GPU at once; workspace files stay on
/// the host. -SaveImage first commits it to an image of the owner's (the only sanctioned commit).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveDs01ContainerCommand : Ds01ContainerTargetCmdlet
{
    /// <summary>Stop a running container first instead of refusing.</summary>
    [Parameter]
    public SwitchParameter Stop { get; set; }

    /// <summary>Save the container's changes as ds01-{uid}/{name}[:tag] before removing it (container-retire --save-image).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SaveImage { get; set; }

    /// <summary>No confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        // The name is checked before the prompt, so -WhatIf shows the image the save would really make.
        var image = SaveImage is null ? null : ContainerService.SaveImageReference(SaveImage, owner);
        var action = (Stop ? "Stop and remove container" : "Remove container") + (image is null ? "" : $", saving it as image {image}");
        if (!ShouldAct(Name, action, Force)) return;
        var saved = Await(Containers.RemoveAsync(Name, owner, Stop, SaveImage, Cancellation));
        if (saved is not null) Tell($"Saved {Name} as {saved}; start a new container from it with: Deploy-Ds01Container <name> -Image {saved}");
    });
}

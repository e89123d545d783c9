using System.Management.Automation;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// container-remove / container-retire: deletes the container and frees its GPU at once; workspace files stay on
/// the host. -SaveImage first commits it to an image of the owner's (the only sanctioned commit).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "Ds01Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveDs01ContainerCommand : Ds01ContainerBatchCmdlet<string?>
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

    protected override bool Confirm(string name, UserIdentity owner)
    {
        // The name is checked before the prompt, so -WhatIf shows the image the save would really make.
        var image = SaveImage is null ? null : ContainerService.SaveImageReference(SaveImage, owner);
        if (image is not null && QueuedCount > 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "SaveImageNeedsOneContainer",
                $"-SaveImage {SaveImage} names one image, and more than one container was given; '{name}' was not removed.", name,
                "Retire one container at a time with -SaveImage, or give each its own image name.");
        var action = (Stop ? "Stop and remove container" : "Remove container") + (image is null ? "" : $", saving it as image {image}");
        return ShouldAct(name, action, Force);
    }

    protected override Task<string?> ActAsync(ContainerService containers, string name, UserIdentity owner, CancellationToken ct) =>
        containers.RemoveAsync(name, owner, Stop, SaveImage, ct);

    protected override void Completed(string name, string? saved)
    {
        if (saved is not null) Tell($"Saved {name} as {saved}; start a new container from it with: Deploy-Ds01Container <name> -Image {saved}");
    }
}

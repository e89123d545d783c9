using System.Management.Automation;

namespace Ds01.PowerShell;

/// <summary>
/// Cmdlets that act on one container: -Name by value and by property name, -User by property name, so
/// `Get-Ds01Container | Stop-Ds01Container` carries each container's owner down the pipeline.
/// </summary>
public abstract class Ds01ContainerTargetCmdlet : Ds01ContainerCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Admins: the owner of the container; from the pipeline, the object's owner.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }
}

using System.Management.Automation;

namespace Ds01.PowerShell;

/// <summary>
/// Cmdlets that act on one container: -Name by value and by property name, -User by property name, so
/// `Get-Ds01Container | Stop-Ds01Container` carries each container's owner (and, on a cluster, its node) down the pipeline.
/// </summary>
public abstract class Ds01ContainerTargetCmdlet : Ds01ContainerCmdlet
{
    /// <summary>Left out at a terminal: a list to choose from (see ChooseContainer); in a script, a NameRequired error.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Admins: the owner of the container; from the pipeline, the object's owner.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>
    /// On a cluster: the node that holds the container (from the pipeline, the Ds01Container's Node), so the
    /// command goes to that node's Docker endpoint without asking the others. Left out, each endpoint is asked.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Node { get; set; }

    /// <summary>Explain each step first and ask for what is missing (Ds01.Core's GuidedFlows).</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        // Only without pipeline input: piped containers bind -Name record by record.
        var pick = !MyInvocation.ExpectingInput && string.IsNullOrEmpty(Name);
        var startFirst = MyInvocation.BoundParameters.ContainsKey("Start");
        if (Guided) RunGuided(pick ? () => ChooseContainer(User, startFirst) : null);
        else if (pick) Name = ChooseContainer(User, startFirst);
    }
}

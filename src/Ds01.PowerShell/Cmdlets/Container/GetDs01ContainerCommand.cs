using System.Management.Automation;
using Ds01.Core;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-list: the caller's containers (all states), including ones AIME mlc made.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01Container", DefaultParameterSetName = Mine)]
[OutputType(typeof(Ds01Container))]
public sealed class GetDs01ContainerCommand : Ds01ContainerCmdlet
{
    private const string Mine = "Mine";
    private const string All = "AllUsers";

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter]
    public ContainerState[]? State { get; set; }

    [Parameter(ParameterSetName = Mine, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = All)]
    public SwitchParameter AllUsers { get; set; }

    private IReadOnlyList<Ds01Container>? _all;

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var owner = AllUsers ? null : Owner(User);
            // One Docker list call per invocation, however many names come down the pipeline.
            _all ??= Core.Maintenance.MaintenanceState.Annotate(Await(Containers.ListAllAsync(Cancellation)), Session.Paths.StateDir);
            var found = ContainerService.Select(_all, owner, State);
            if (Name is null)
            {
                WriteObject(found, enumerateCollection: true);
                return;
            }
            foreach (var n in Name)
            {
                // Case-sensitive, as Docker names are: "thesis" must never select "Thesis".
                var pattern = WildcardPattern.Get(n, WildcardOptions.None);
                var matches = found.Where(c => pattern.IsMatch(c.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(n))
                    WriteError(ToErrorRecord(new Ds01Exception(Ds01ErrorKind.NotFound, "ContainerNotFound",
                        $"No container named '{n}'.", n, "Get-Ds01Container without -Name lists them all.")));
                WriteObject(matches, enumerateCollection: true);
            }
        });
    }
}

using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-stats: one-shot CPU, memory and pids of the caller's containers.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01ContainerStats")]
[OutputType(typeof(Ds01ContainerStats))]
public sealed class GetDs01ContainerStatsCommand : Ds01ContainerCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    /// <summary>Stopped containers too (with zero use).</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var mine = Await(Containers.ListAsync(owner, Cancellation))
            .Where(c => All || c.State == ContainerState.Running)
            .Where(c => Name is null || Name.Any(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase).IsMatch(c.Name)))
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        // Docker takes about a second per stats sample; ask for all containers at once.
        var stats = Await(Task.WhenAll(mine.Select(c => Containers.StatsAsync(c, Cancellation))));
        WriteObject(stats, enumerateCollection: true);
    });
}

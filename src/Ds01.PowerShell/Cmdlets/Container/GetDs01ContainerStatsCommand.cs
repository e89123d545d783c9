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
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>Stopped containers too (with zero use).</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.None)).ToList(); // case-sensitive, as Docker names are
        var (stats, notRunning) = Await(Containers.StatsReportAsync(owner, All, name => patterns is null || patterns.Any(p => p.IsMatch(name)), Cancellation));
        WriteObject(stats, enumerateCollection: true);
        // A container named exactly (no wildcard) that is not running would otherwise print nothing at all.
        var named = Name?.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)).ToHashSet(StringComparer.Ordinal);
        foreach (var c in notRunning.Where(c => named?.Contains(c.Name) == true))
            WriteError(ToErrorRecord(ContainerService.NotRunningForStats(c)));
    });
}

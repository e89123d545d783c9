using System.Management.Automation;
using Ds01.Core.Events;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>audit-report's raw material: the events of events.jsonl and its rotated files, in time order.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01Event")]
[OutputType(typeof(Ds01Event))]
public sealed class GetDs01EventCommand : Ds01Cmdlet
{
    [Parameter]
    public DateTimeOffset Since { get; set; }

    [Parameter]
    public DateTimeOffset Until { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string[]? User { get; set; }

    /// <summary>Event types, wildcards allowed (cleanup.*).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Type { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Container { get; set; }

    /// <summary>Another log file (an archive); its rotated files are read too.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void EndProcessing() => Try(() =>
    {
        var stats = new EventReadStats();
        var filter = new EventFilter { Since = Bound(nameof(Since)) ? Since : null, Until = Bound(nameof(Until)) ? Until : null, Users = User, Types = Type, Containers = Container };
        var path = Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path);
        foreach (var e in new EventService(Session).Read(filter, stats, path))
        {
            Cancellation.ThrowIfCancellationRequested();
            WriteObject(e);
        }
        foreach (var f in stats.UnreadableFiles)
            WriteError(new ErrorRecord(new UnauthorizedAccessException(f), "EventLogUnreadable", ErrorCategory.PermissionDenied, f)
            { ErrorDetails = new ErrorDetails($"Could not read {f}") { RecommendedAction = "Ask an admin: the event log is readable by root and admins only." } });
        if (stats.Invalid > 0)
            WriteWarning($"Skipped {stats.Invalid} of {stats.Lines} lines that are not valid events.");
    });

    private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);
}

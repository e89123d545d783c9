using System.Management.Automation;
using Ds01.Core.Configuration;
using Ds01.Core.Events;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// audit-report: GPU-hours, container-hours, containers created and stopped by maintenance, from the events; with
/// backend: slurm (or -Source Slurm) GPU-hours and job-hours of every node from Slurm's accounting (sacct).
/// </summary>
[Cmdlet(VerbsCommon.Get, "Ds01UsageReport")]
[OutputType(typeof(Ds01UsageSummary))]
public sealed class GetDs01UsageReportCommand : Ds01Cmdlet
{
    /// <summary>Start of the window; 7 days before -Until by default.</summary>
    [Parameter]
    public DateTimeOffset Since { get; set; }

    /// <summary>End of the window; now by default.</summary>
    [Parameter]
    public DateTimeOffset Until { get; set; }

    [Parameter(Position = 0)]
    public UsageGrouping By { get; set; } = UsageGrouping.User;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Events (this server's event log) or Slurm (sacct); Slurm by default with backend: slurm.</summary>
    [Parameter]
    public UsageSource Source { get; set; }

    protected override void EndProcessing() => Try(() =>
    {
        var until = MyInvocation.BoundParameters.ContainsKey(nameof(Until)) ? Until : Session.Clock.GetUtcNow();
        var since = MyInvocation.BoundParameters.ContainsKey(nameof(Since)) ? Since : until.AddDays(-7);
        var source = UsageReport.ChooseSource(Session.Config.Cluster,
            MyInvocation.BoundParameters.ContainsKey(nameof(Source)) ? Source : null, Path);
        var stats = new EventReadStats();
        var service = new EventService(Session);
        // Events before the window are read too: what was running when it began counts from its start.
        var events = source == UsageSource.Slurm ? null
            : service.Read(new EventFilter { Until = until }, stats, Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path));
        ResourceLimitsConfig? config = null;
        try { config = Session.Config.ResourceLimits; } catch (Core.Ds01Exception) { }
        var groups = new Dictionary<string, string?>();
        string? GroupOf(string user)
        {
            if (config is null) return null;
            if (groups.TryGetValue(user, out var g)) return g;
            var identity = Session.Identities.FindByName(user);
            return groups[user] = LimitResolver.GroupOf(config, user, identity?.Groups ?? Array.Empty<string>());
        }
        if (until < since)
            throw new Core.Ds01Exception(Core.Ds01ErrorKind.InvalidArgument, "UntilBeforeSince", $"-Until ({until:u}) is before -Since ({since:u}).", null,
                "Swap the two times, or leave one out.");
        if (source == UsageSource.Slurm)
        {
            var jobs = Await(Core.Cluster.SlurmUsage.ReadAsync(Session, since, until, Cancellation));
            WriteObject(Core.Cluster.SlurmUsage.Compute(jobs, since, until, By, GroupOf), enumerateCollection: true);
            return;
        }
        WriteObject(UsageReport.Compute(events!, since, until, By, GroupOf), enumerateCollection: true);
        if (stats.Invalid > 0) WriteWarning($"Skipped {stats.Invalid} of {stats.Lines} lines that are not valid events.");
    });
}

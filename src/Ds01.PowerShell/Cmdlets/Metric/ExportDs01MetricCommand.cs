using System.Management.Automation;
using Ds01.Core.Metrics;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// Prometheus text exposition of the server (slots, GPU-equivalents per user and group, containers, queue, maintenance).
/// With -Path it is written atomically for node_exporter's textfile collector; without, it is returned as text.
/// </summary>
[Cmdlet(VerbsData.Export, "Ds01Metric", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(string))]
public sealed class ExportDs01MetricCommand : Ds01ContainerCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void EndProcessing()
    {
        Try(() =>
        {
            var text = Await(MetricsExporter.CollectAsync(Session, Engine, Cancellation));
            if (Path is null) { WriteObject(text); return; }
            var file = GetUnresolvedProviderPathFromPSPath(Path);
            if (ShouldProcess(file, "Write Prometheus metrics")) MetricsExporter.WriteAtomically(file, text);
        });
        base.EndProcessing();
    }
}

using System.Management.Automation;
using System.Management.Automation.Host;
using Ds01.Core.Status;
using Spectre.Console;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// The seeds' monitoring dashboard. Once, it returns the drawing as text (like Show-Markdown); with -Watch it redraws
/// in place on the terminal every -RefreshSec seconds with Spectre.Console's live display until Ctrl+C.
/// </summary>
[Cmdlet(VerbsCommon.Show, "Ds01Dashboard")]
[OutputType(typeof(string))]
public sealed class ShowDs01DashboardCommand : Ds01ContainerCmdlet
{
    /// <summary>Draw this status instead of reading the server's (Get-Ds01SystemStatus | Show-Ds01Dashboard).</summary>
    [Parameter(ValueFromPipeline = true)]
    public Ds01SystemStatus? InputObject { get; set; }

    [Parameter]
    public SwitchParameter Watch { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int RefreshSec { get; set; } = 5;

    private Ds01SystemStatus Read() => InputObject ?? Await(new SystemStatusService(Session, Engine).GetAsync(Cancellation));

    protected override void ProcessRecord() => Try(() =>
    {
        if (!Watch)
        {
            WriteObject(DashboardView.Text(Read(), Session.Clock.GetUtcNow(), Width()));
            return;
        }
        if (Console.IsOutputRedirected)
        {
            // Not a terminal (a pipe, a log): a fresh drawing per refresh instead of redrawing in place.
            while (!Cancellation.IsCancellationRequested)
            {
                Host.UI.WriteLine(DashboardView.Text(Read(), Session.Clock.GetUtcNow(), Width()));
                if (Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(RefreshSec))) break;
            }
            return;
        }
        var first = Read();
        AnsiConsole.Live(DashboardView.Build(first, Session.Clock.GetUtcNow())).Start(ctx =>
        {
            while (!Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(RefreshSec)))
            {
                try { ctx.UpdateTarget(DashboardView.Build(Read(), Session.Clock.GetUtcNow())); }
                catch (Core.Ds01Exception e) { ctx.UpdateTarget(new Markup($"[red]{Markup.Escape(e.Message)}[/]")); }
                ctx.Refresh();
            }
        });
    });

    // Hosts without a terminal (an embedded runspace, a redirected ds01) throw from RawUI rather than return null.
    private int Width()
    {
        // Not a stub: hosts without a console (a hosted runspace, a redirected ds01) throw these for BufferSize.
        try { return Host.UI.RawUI?.BufferSize.Width is > 20 and var w ? w : 100; }
        catch (Exception e) when (e is NotImplementedException or PSNotImplementedException or HostException) { return 100; }
    }
}

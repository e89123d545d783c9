using System.Globalization;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Status;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ds01.PowerShell;

/// <summary>
/// The seeds' dashboard drawn with Spectre.Console: the "3/4 allocated" bar, a line per GPU slot
/// ("user (container) - util%" or "[available]"), active and idle containers with "cleanup in 23h", pending
/// requests and the update time.
/// </summary>
public static class DashboardView
{
    public static IRenderable Build(Ds01SystemStatus s, DateTimeOffset now)
    {
        var rows = new List<IRenderable>
        {
            new Markup($"[bold]DS01 GPU server[/]   Updated: {s.UpdatedAt.ToLocalTime():HH:mm}"),
            new Text(""),
        };
        var total = s.GpuEquivalentsTotal;
        var used = s.GpuEquivalentsAllocated;
        const int width = 30;
        var filled = total > 0 ? (int)Math.Round(width * used / total) : 0;
        rows.Add(new Markup($"GPUs [green]{new string('█', filled)}[/][grey]{new string('░', width - filled)}[/] {Num(used)}/{Num(total)} allocated"));
        if (s.Slots.Count == 0) rows.Add(new Text("  (no GPUs found)"));
        foreach (var slot in s.Slots)
        {
            var label = slot.IsMig ? $"GPU {slot.Slot} ({slot.Profile})" : $"GPU {slot.Slot}";
            var util = slot.UtilizationPercent is { } u ? $"{u}%" : "n/a";
            var text = slot.State switch
            {
                GpuSlotState.Free => "[green][[available]][/]",
                GpuSlotState.Held => $"{Markup.Escape(slot.User ?? "")} ({Markup.Escape(slot.Container ?? "")}) - held until {slot.HoldExpiresAt?.ToLocalTime():HH:mm}",
                _ => $"{Markup.Escape(slot.User ?? "")} ({Markup.Escape(slot.Container ?? "")}) - {util}",
            };
            rows.Add(new Markup($"  {Markup.Escape(label),-14} {text}"));
        }
        var active = s.Containers.Where(c => c.State == ContainerState.Running && !c.Idle).ToList();
        var idle = s.Containers.Where(c => c.Idle).ToList();
        rows.Add(new Text(""));
        rows.Add(new Markup($"[bold]Active containers ({active.Count})[/]"));
        foreach (var c in active) rows.Add(new Text($"  {c.User,-12} {c.Name,-24} {Gpu(c)}{Cleanup(c, now)}"));
        rows.Add(new Markup($"[bold]Idle containers ({idle.Count})[/]"));
        foreach (var c in idle) rows.Add(new Text($"  {c.User,-12} {c.Name,-24} {Gpu(c)}{Cleanup(c, now)}"));
        rows.Add(new Markup($"[bold]Pending requests ({s.QueuedRequests})[/]"));
        foreach (var q in s.Queue) rows.Add(new Text($"  {q.User,-12} {q.Container,-24} priority {q.Priority}"));
        foreach (var p in s.Problems) rows.Add(new Markup($"[yellow]{Markup.Escape(p)}[/]"));
        return new Rows(rows);
    }

    /// <summary>The dashboard as plain text (no colours), for the pipeline and for logs.</summary>
    public static string Text(Ds01SystemStatus s, DateTimeOffset now, int width = 100)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        console.Write(Build(s, now));
        return writer.ToString().TrimEnd() + Environment.NewLine;
    }

    private static string Gpu(Ds01StatusContainer c) => c.Gpu.Length > 0 ? $"GPU {c.Gpu,-6}" : "CPU only  ";

    private static string Cleanup(Ds01StatusContainer c, DateTimeOffset now)
    {
        if (c.StopsAt is not { } at) return "";
        var left = at - now;
        var inText = left <= TimeSpan.Zero ? "due" : left.TotalHours >= 1 ? $"in {Math.Floor(left.TotalHours):0}h" : $"in {Math.Ceiling(left.TotalMinutes):0}m";
        return $" (cleanup {inText}{(c.StopReason == "Runtime" ? ", runtime limit" : "")})";
    }

    private static string Num(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}

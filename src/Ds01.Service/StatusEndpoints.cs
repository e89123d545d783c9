using System.Globalization;
using System.Net;
using System.Text;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Ds01.Service.Binds;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Ds01.Service;

/// <summary>
/// The optional status listener (off by default, loopback only, read-only): /metrics in Prometheus text
/// (prometheus-net: the service's counters plus GPU and container gauges read at scrape time) and / , a status
/// page with the dashboard's content: GPUs allocated, who holds each slot, containers, the GPU queue.
/// </summary>
internal static class StatusEndpoints
{
    private static readonly Gauge GpuSlots = Metrics.CreateGauge("ds01_gpu_slots", "GPU slots by state (free, allocated, held).",
        new GaugeConfiguration { LabelNames = new[] { "state" } });
    private static readonly Gauge Containers = Metrics.CreateGauge("ds01_containers", "Containers Ds01 or AIME made, by state.",
        new GaugeConfiguration { LabelNames = new[] { "state" } });
    private static readonly Gauge Queued = Metrics.CreateGauge("ds01_gpu_queue_length", "GPU requests waiting in the queue.");
    private static readonly Gauge BindsIdmapped = Metrics.CreateGauge("ds01d_binds_idmapped", "1 while every bind ds01d mounted is idmapped (container root writes as 65534), 0 after a fallback to plain nosuid,nodev binds.");

    /// <summary>ADDRESS:PORT on a loopback address, or a specific error.</summary>
    public static IPEndPoint Parse(string listen)
    {
        var colon = listen.LastIndexOf(':');
        if (colon < 0 || !IPAddress.TryParse(listen[..colon].Trim('[', ']'), out var address) || !int.TryParse(listen[(colon + 1)..], out var port))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidStatusListen", $"--status-listen '{listen}' is not ADDRESS:PORT.", listen);
        if (!IPAddress.IsLoopback(address))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "StatusListenNotLoopback",
                $"--status-listen {listen} is not a loopback address; the status page is for this machine only.", listen, "Use 127.0.0.1:PORT.");
        return new IPEndPoint(address, port);
    }

    public sealed record Snapshot(IReadOnlyList<Ds01GpuSlot> Slots, IReadOnlyList<Ds01Container> Containers, IReadOnlyList<Ds01GpuAllocation> Queue,
        DateTimeOffset At)
    {
        /// <summary>How ds01d mounts binds (idmapped or the nosuid,nodev fallback), BindMounter.Describe.</summary>
        public string? Binds { get; init; }
    }

    public static void Map(WebApplication app, ServiceOptions options)
    {
        var binds = app.Services.GetRequiredService<BindMounter>();
        async Task<Snapshot> Read(CancellationToken ct)
        {
            // As root, from the service's own config and state; nothing about the request changes what is read.
            var session = new Ds01Session(options.Paths, new OsIdentitySource());
            using var engine = new DockerEngine(options.Docker);
            var gpu = new GpuService(session, engine);
            IReadOnlyList<Ds01GpuSlot> slots;
            try { slots = await gpu.SlotStatesAsync(ct); }
            catch (Ds01Exception) { slots = Array.Empty<Ds01GpuSlot>(); } // no GPUs configured or nvidia-smi missing
            var containers = await new ContainerService(session, engine).ListAllAsync(ct);
            return new Snapshot(slots, containers, gpu.QueuedAllocations(), DateTimeOffset.UtcNow) { Binds = binds.Describe() };
        }

        Metrics.DefaultRegistry.AddBeforeCollectCallback(async ct =>
        {
            var s = await Read(ct);
            foreach (var state in Enum.GetValues<GpuSlotState>())
                GpuSlots.WithLabels(state.ToString().ToLowerInvariant()).Set(s.Slots.Count(x => x.State == state));
            foreach (var state in Enum.GetValues<ContainerState>())
                Containers.WithLabels(state.ToString().ToLowerInvariant()).Set(s.Containers.Count(x => x.State == state));
            Queued.Set(s.Queue.Count);
            BindsIdmapped.Set(binds.IdmapProblem is null ? 1 : 0);
        });
        app.MapGet("/metrics", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
        });
        app.MapGet("/", async (HttpContext http) =>
        {
            var html = Render(await Read(http.RequestAborted));
            return Results.Content(html, "text/html; charset=utf-8");
        });
    }

    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>The page; every value from Docker (names, labels) is HTML-encoded, since users choose them.</summary>
    public static string Render(Snapshot s)
    {
        var sb = new StringBuilder();
        var used = s.Slots.Count(x => x.State != GpuSlotState.Free);
        sb.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Ds01 status</title>")
          .Append("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 8px}</style></head><body>")
          .Append("<h1>Ds01 status</h1>")
          .Append($"<p id=\"gpu-summary\">GPUs: {used}/{s.Slots.Count} allocated</p>")
          .Append("<table id=\"gpus\"><tr><th>Slot</th><th>Model</th><th>State</th><th>User (container)</th></tr>");
        foreach (var g in s.Slots)
        {
            var who = g.State == GpuSlotState.Free ? "[available]" : $"{E(g.User)} ({E(g.Container)})";
            sb.Append($"<tr><td>{E(g.Slot)}</td><td>{E(g.Model)}{(g.Profile is null ? "" : " " + E(g.Profile))}</td><td>{g.State}</td><td>{who}</td></tr>");
        }
        sb.Append("</table><h2>Active containers</h2><table id=\"containers\"><tr><th>Container</th><th>User</th><th>GPU</th><th>Status</th></tr>");
        foreach (var c in s.Containers.Where(c => c.State is ContainerState.Running or ContainerState.Paused).OrderBy(c => c.User).ThenBy(c => c.Name))
            sb.Append($"<tr><td>{E(c.Name)}</td><td>{E(c.User)}</td><td>{E(c.Gpu)}</td><td>{E(c.Status)}</td></tr>");
        sb.Append("</table>");
        var stopped = s.Containers.Count(c => c.State is ContainerState.Stopped or ContainerState.Created);
        sb.Append($"<p id=\"stopped\">Stopped or created containers: {stopped}</p>");
        sb.Append("<h2>Pending requests</h2><ul id=\"queue\">");
        foreach (var q in s.Queue) sb.Append($"<li>{E(q.User)} ({E(q.Container)})</li>");
        if (s.Queue.Count == 0) sb.Append("<li>none</li>");
        sb.Append("</ul>");
        if (s.Binds is not null) sb.Append($"<p id=\"binds\">{E(s.Binds)}</p>");
        sb.Append($"<p>Updated: {s.At.ToLocalTime().ToString("HH:mm", CultureInfo.InvariantCulture)}</p></body></html>");
        return sb.ToString();
    }
}

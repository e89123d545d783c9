using Prometheus;

namespace Ds01.Service;

/// <summary>The service's own counters (prometheus-net): requests relayed and refused, by endpoint family and error id.</summary>
internal static class ServiceMetrics
{
    public static readonly Counter Requests = Metrics.CreateCounter("ds01d_requests_total",
        "Docker API requests ds01d decided, by verdict (relayed, refused) and endpoint family (containers, images, exec, ...).",
        new CounterConfiguration { LabelNames = new[] { "verdict", "family" } });

    public static readonly Counter Refusals = Metrics.CreateCounter("ds01d_refusals_total",
        "Refused requests by Ds01 error id (PrivilegedNotAllowed, NotOwner, NoFreeGpu, ...).",
        new CounterConfiguration { LabelNames = new[] { "error_id" } });

    public static readonly Gauge Connections = Metrics.CreateGauge("ds01d_connections", "Open client connections on the service socket.");

    public static string Family(IReadOnlyList<string> segments) => segments.Count == 0 ? "" : segments[0] switch
    {
        "containers" or "images" or "exec" or "build" or "commit" or "volumes" or "networks" or "events" or "info" or "version" or "_ping" => segments[0],
        _ => "other",
    };
}

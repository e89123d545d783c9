using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Ds01.Core.Docker;

/// <summary>Where a client talks to Docker, whether that is ds01d, and a sentence saying so (for -Verbose).</summary>
public sealed record DockerEndpoint(string Uri, bool ViaService, string Note);

/// <summary>
/// The client's choice of endpoint: DOCKER_HOST when set (as the docker CLI), else ds01d's socket when it exists,
/// else dockerd's own socket (a single-user machine, the tests). Whether a unix socket is ds01d is asked of the
/// socket itself (GET /_ds01/ping), so a test service on another path is recognised too. Only the client's
/// bookkeeping depends on it (ds01d writes the events); the rules are enforced by the service either way.
/// </summary>
public static class DockerEndpointResolver
{
    public const string ServiceSocket = "/run/ds01/docker.sock";
    public const string DockerSocket = "/var/run/docker.sock";
    private static readonly ConcurrentDictionary<string, bool> Probed = new(StringComparer.Ordinal);

    /// <param name="probe">False: do not ask a DOCKER_HOST socket whether it is ds01d (a read that needs no bookkeeping).</param>
    public static DockerEndpoint Resolve(string? dockerHost = null, string serviceSocket = ServiceSocket, bool probe = true)
    {
        dockerHost ??= Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (!string.IsNullOrWhiteSpace(dockerHost) && !probe)
            return new DockerEndpoint(dockerHost!, false, $"Using Docker at {dockerHost} (DOCKER_HOST).");
        if (!string.IsNullOrWhiteSpace(dockerHost))
        {
            var isService = dockerHost!.StartsWith("unix://", StringComparison.Ordinal) && IsService(dockerHost.Substring("unix://".Length));
            return new DockerEndpoint(dockerHost, isService, isService
                ? $"Using the Ds01 service at {dockerHost} (DOCKER_HOST)."
                : $"Using Docker directly at {dockerHost} (DOCKER_HOST); it is not the Ds01 service.");
        }
        if (File.Exists(serviceSocket))
            return new DockerEndpoint("unix://" + serviceSocket, true, $"Using the Ds01 service at {serviceSocket}.");
        return new DockerEndpoint("unix://" + DockerSocket, false,
            $"No Ds01 service socket ({serviceSocket}); using Docker directly at unix://{DockerSocket}.");
    }

    /// <summary>One small request per socket and process; dockerd answers it with 404, ds01d with its name.</summary>
    public static bool IsService(string socketPath) => Probed.GetOrAdd(socketPath, Probe);

    /// <summary>Asks again, without the per-process answer (for waiting until a service is up).</summary>
    public static bool IsServiceNow(string socketPath) => Probe(socketPath);

    /// <summary>
    /// ds01d's GPU queue (GET /_ds01/gpu-queue): every user's waiting requests, which a client under the service
    /// cannot read from ds01d's state dir. Null when the service does not answer it.
    /// </summary>
    public static IReadOnlyList<Gpu.GpuQueueEntry>? ServiceQueue(string socketPath)
    {
        // Bounded: a queue is at most GpuQueue.MaxEntries entries of a few hundred bytes.
        var text = ServiceGet(socketPath, "/_ds01/gpu-queue", 8 * 1024 * 1024, 5000);
        var body = text?.IndexOf("\r\n\r\n", StringComparison.Ordinal) ?? -1;
        if (text is null || !text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || body < 0) return null;
        try { return Gpu.GpuQueue.Deserialize(text[(body + 4)..]); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    private static bool Probe(string socketPath) =>
        ServiceGet(socketPath, "/_ds01/ping", 4096, 2000) is { } text &&
        text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && text.Contains("\"service\":\"ds01d\"", StringComparison.Ordinal);

    /// <summary>One GET to ds01d's own endpoints over its socket (Connection: close), the answer read up to <paramref name="maxBytes"/>; null when nothing answers.</summary>
    private static string? ServiceGet(string socketPath, string path, int maxBytes, int timeoutMs)
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.ReceiveTimeout = timeoutMs;
            socket.SendTimeout = timeoutMs;
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            socket.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: ds01\r\nConnection: close\r\n\r\n"));
            var buf = new byte[maxBytes];
            var total = 0;
            int n;
            while (total < buf.Length && (n = socket.Receive(buf, total, buf.Length - total, SocketFlags.None)) > 0) total += n;
            return Encoding.UTF8.GetString(buf, 0, total);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            return null;
        }
    }
}

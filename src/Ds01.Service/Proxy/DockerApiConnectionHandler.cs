using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Ds01.Core;
using Ds01.Core.Configuration;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Service.Http;
using Ds01.Service.Policy;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ds01.Service.Proxy;

/// <summary>
/// One client connection on ds01d's socket: the caller from SO_PEERCRED, then request by request: parse, decide,
/// relay to dockerd on a connection of its own, relay the response (streamed chunk by chunk; upgraded or
/// close-delimited responses become a two-way byte pump, which is what exec and attach need).
/// </summary>
internal sealed class DockerApiConnectionHandler : ConnectionHandler
{
    private const int MaxInspectedBody = 4 * 1024 * 1024;
    private readonly ServiceOptions _options;
    private readonly Upstream _docker;
    private readonly RequestPolicy _policy;
    private readonly IIdentitySource _identities;
    private readonly ConfigCache _config;
    private readonly ILogger<DockerApiConnectionHandler> _log;

    public DockerApiConnectionHandler(ServiceOptions options, Upstream docker, RequestPolicy policy, IIdentitySource identities, ConfigCache config,
        ILogger<DockerApiConnectionHandler> log)
    {
        _options = options; _docker = docker; _policy = policy; _identities = identities; _config = config; _log = log;
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var ct = connection.ConnectionClosed;
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null) { connection.Abort(); return; }
        var peer = PeerCredentials.Of(socket);
        var (config, problem) = _config.Get();
        var caller = new Caller(peer, _identities.FindByUid(peer.Uid), config, problem);

        using var open = ServiceMetrics.Connections.TrackInProgress();
        var clientIn = connection.Transport.Input.AsStream();
        var clientOut = connection.Transport.Output.AsStream();
        var client = new HttpReader(clientIn);
        Socket? upstream = null;
        HttpReader? upstreamReader = null;
        NetworkStream? upstreamStream = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                string? headText;
                try { headText = await client.ReadHeadAsync(ct).ConfigureAwait(false); }
                catch (HttpFormatException e) { await WriteErrorAsync(clientOut, Deny.BadRequest("BadHttpRequest", e.Message, null), true, ct).ConfigureAwait(false); return; }
                if (headText is null) return;

                HttpHead head;
                ApiRequest request;
                BodyFraming framing;
                long length;
                try
                {
                    head = HttpHead.Parse(headText);
                    (framing, length) = head.Framing(isRequest: true);
                    request = ApiRequest.Parse(head);
                }
                catch (HttpFormatException e) { await WriteErrorAsync(clientOut, Deny.BadRequest("BadHttpRequest", e.Message, null), true, ct).ConfigureAwait(false); return; }
                catch (Ds01Exception e) { await WriteErrorAsync(clientOut, e, true, ct).ConfigureAwait(false); return; }

                // ds01d's own endpoints: who the caller is, and the GPU queue (everyone's waiting requests, as the
                // container list shows everyone's containers; a client cannot read ds01d's state dir).
                var own = request.Is("GET", "_ds01", "ping")
                    ? $"{{\"service\":\"ds01d\",\"uid\":{caller.Uid},\"admin\":{(caller.IsAdmin ? "true" : "false")}}}"
                    : request.Is("GET", "_ds01", "gpu-queue") ? Core.Gpu.GpuQueue.Serialize(new Core.Gpu.GpuQueue(_options.Paths.StateDir).List()) : null;
                if (own is not null)
                {
                    var close = head.HasToken("Connection", "close");
                    await DiscardBodyAsync(client, framing, length, ct).ConfigureAwait(false);
                    await WriteJsonAsync(clientOut, 200, Encoding.UTF8.GetBytes(own), close, ct).ConfigureAwait(false);
                    if (close) return;
                    continue;
                }

                byte[]? buffered = null;
                async Task<byte[]> Body()
                {
                    if (buffered is not null) return buffered;
                    if (head.HasToken("Expect", "100-continue"))
                    {
                        await clientOut.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), ct).ConfigureAwait(false);
                        head.Remove("Expect");
                    }
                    return buffered = await client.ReadBodyAsync(framing, length, MaxInspectedBody, ct).ConfigureAwait(false);
                }

                Verdict verdict;
                try
                {
                    verdict = await _policy.DecideAsync(request, caller, Body, ct).ConfigureAwait(false);
                }
                catch (Ds01Exception e)
                {
                    _log.LogInformation("refused {Method} {Path} for uid {Uid} (pid {Pid}): {Id}", request.Method, request.Path, caller.Uid, caller.Peer.Pid, e.ErrorId);
                    ServiceMetrics.Requests.WithLabels("refused", ServiceMetrics.Family(request.Segments)).Inc();
                    ServiceMetrics.Refusals.WithLabels(e.ErrorId).Inc();
                    // The body is still in the stream unless the policy read it. A small one is read first: closing
                    // with it unread makes the kernel reset the connection, and the client may see that, not the 403.
                    var drained = buffered is not null || framing == BodyFraming.None;
                    if (!drained && framing == BodyFraming.Length && length <= MaxInspectedBody && !head.HasToken("Expect", "100-continue"))
                    {
                        await DiscardBodyAsync(client, framing, length, ct).ConfigureAwait(false);
                        drained = true;
                    }
                    await WriteErrorAsync(clientOut, e, !drained, ct).ConfigureAwait(false);
                    if (!drained) return;
                    continue;
                }
                catch (HttpFormatException e) { await WriteErrorAsync(clientOut, Deny.BadRequest("BadHttpRequest", e.Message, null), true, ct).ConfigureAwait(false); return; }

                if (upstream is null)
                {
                    upstream = await _docker.ConnectAsync(ct).ConfigureAwait(false);
                    upstreamStream = new NetworkStream(upstream, ownsSocket: false);
                    upstreamReader = new HttpReader(upstreamStream);
                }
                var keepOpen = true;
                async Task<int> Forward()
                {
                    var body = verdict.Body ?? buffered;
                    if (body is not null)
                    {
                        head.Remove("Transfer-Encoding");
                        head.Set("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }
                    // A create is finished with dockerd even when its client dies (Verdict.CompleteWithoutClient): its body
                    // is buffered, so nothing below needs the client until dockerd's status line has been read.
                    using var answer = verdict.CompleteWithoutClient ? new CancellationTokenSource(Verdict.UpstreamAnswerTimeout) : null;
                    var upstreamCt = answer?.Token ?? ct;
                    await upstreamStream!.WriteAsync(head.ToBytes(), upstreamCt).ConfigureAwait(false);
                    if (body is not null) await upstreamStream.WriteAsync(body, upstreamCt).ConfigureAwait(false);
                    else if (framing == BodyFraming.Length) await client.CopyExactAsync(length, upstreamStream, ct).ConfigureAwait(false);
                    else if (framing == BodyFraming.Chunked) await client.RelayChunkedAsync(upstreamStream, ct).ConfigureAwait(false);
                    int? seen = null;
                    try
                    {
                        var (status, open) = await RelayResponseAsync(request, upstreamReader!, upstream!, client, clientOut, upstreamCt, ct, s => seen = s).ConfigureAwait(false);
                        keepOpen = open && !head.HasToken("Connection", "close");
                        return status;
                    }
                    catch (Exception e) when (verdict.CompleteWithoutClient && seen is { } answered &&
                                              e is IOException or SocketException or OperationCanceledException or ConnectionResetException)
                    {
                        // dockerd answered; only the client is gone. The status still decides (the reservation, the event).
                        keepOpen = false;
                        return answered;
                    }
                }
                int result;
                try
                {
                    result = verdict.Around is null ? await Forward().ConfigureAwait(false) : await verdict.Around(Forward).ConfigureAwait(false);
                }
                catch (Ds01Exception e)
                {
                    ServiceMetrics.Requests.WithLabels("refused", ServiceMetrics.Family(request.Segments)).Inc();
                    ServiceMetrics.Refusals.WithLabels(e.ErrorId).Inc();
                    // Refused under the lock (a slot taken meanwhile, max_containers): nothing went to dockerd. A body the
                    // policy did not read (a start's) is still in the stream: the connection cannot carry another request.
                    var drained = buffered is not null || framing == BodyFraming.None;
                    await WriteErrorAsync(clientOut, e, !drained, ct).ConfigureAwait(false);
                    if (!drained) return;
                    continue;
                }
                ServiceMetrics.Requests.WithLabels("relayed", ServiceMetrics.Family(request.Segments)).Inc();
                verdict.After?.Invoke(result);
                if (!keepOpen) return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ConnectionResetException or HttpFormatException)
        {
            _log.LogDebug("connection of uid {Uid} ended: {Message}", caller.Uid, e.Message);
        }
        finally
        {
            upstreamStream?.Dispose();
            upstream?.Dispose();
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Relays one response; returns its status and whether the client connection can carry another request.</summary>
    /// <param name="upstreamCt">Bounds the wait for dockerd's status line; <paramref name="ct"/> (the client's) the rest.</param>
    /// <param name="seen">Told the final status as soon as dockerd's head is read, before anything goes to the client.</param>
    private static async Task<(int Status, bool KeepOpen)> RelayResponseAsync(ApiRequest request, HttpReader upstream, Socket upstreamSocket,
        HttpReader client, Stream clientOut, CancellationToken upstreamCt, CancellationToken ct, Action<int>? seen = null)
    {
        while (true)
        {
            var text = await upstream.ReadHeadAsync(upstreamCt).ConfigureAwait(false) ?? throw new IOException("dockerd closed the connection");
            var head = HttpHead.Parse(text);
            var parts = head.StartLine.Split(' ', 3);
            var status = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            if (status is < 100 or >= 200) seen?.Invoke(status);
            await clientOut.WriteAsync(head.ToBytes(), ct).ConfigureAwait(false);
            if (status is >= 100 and < 200 && status != 101) continue;
            if (status == 101)
            {
                await PumpAsync(upstream, upstreamSocket, client, clientOut, ct).ConfigureAwait(false);
                return (status, false);
            }
            if (request.Method == "HEAD" || status is 204 or 304) return (status, !head.HasToken("Connection", "close"));
            var (framing, length) = head.Framing(isRequest: false);
            switch (framing)
            {
                case BodyFraming.Length:
                    await upstream.CopyExactAsync(length, clientOut, ct).ConfigureAwait(false);
                    break;
                case BodyFraming.Chunked:
                    await upstream.RelayChunkedAsync(clientOut, ct).ConfigureAwait(false);
                    break;
                case BodyFraming.UntilClose:
                    // Docker's hijacked attach without an upgrade: a raw stream both ways until one side closes.
                    await PumpAsync(upstream, upstreamSocket, client, clientOut, ct).ConfigureAwait(false);
                    return (status, false);
            }
            return (status, !head.HasToken("Connection", "close"));
        }
    }

    /// <summary>Bytes both ways until dockerd closes; the client's half-close (stdin at EOF) is passed on as a shutdown of the write side.</summary>
    private static async Task PumpAsync(HttpReader upstream, Socket upstreamSocket, HttpReader client, Stream clientOut, CancellationToken _)
    {
        // Not the connection's token: Kestrel signals it when the client half-closes, but the output still has to flow.
        var ct = CancellationToken.None;
        using var upstreamStream = new NetworkStream(upstreamSocket, ownsSocket: false);
        var toDocker = Task.Run(async () =>
        {
            try
            {
                await client.CopyToEndAsync(upstreamStream, ct).ConfigureAwait(false);
                upstreamSocket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or ConnectionResetException) { }
        });
        await upstream.CopyToEndAsync(new FlushingStream(clientOut), ct).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(Stream output, Ds01Exception e, bool close, CancellationToken ct) =>
        WriteJsonAsync(output, ServiceError.StatusFor(e.Kind), ServiceError.Serialize(e), close, ct);

    private static async Task WriteJsonAsync(Stream output, int status, byte[] body, bool close, CancellationToken ct)
    {
        var reason = status switch { 200 => "OK", 400 => "Bad Request", 403 => "Forbidden", 404 => "Not Found", 409 => "Conflict", 503 => "Service Unavailable", _ => "Error" };
        var head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nDs01-Service: ds01d\r\nContent-Length: {body.Length}\r\n" +
                   (close ? "Connection: close\r\n" : "") + "\r\n";
        await output.WriteAsync(Encoding.ASCII.GetBytes(head), ct).ConfigureAwait(false);
        await output.WriteAsync(body, ct).ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
    }

    private static async Task DiscardBodyAsync(HttpReader reader, BodyFraming framing, long length, CancellationToken ct)
    {
        if (framing == BodyFraming.None) return;
        await reader.ReadBodyAsync(framing, length, MaxInspectedBody, ct).ConfigureAwait(false);
    }

    /// <summary>Flushes after every write, so an interactive shell's output reaches the terminal at once.</summary>
    private sealed class FlushingStream : Stream
    {
        private readonly Stream _inner;
        public FlushingStream(Stream inner) => _inner = inner;
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            await _inner.WriteAsync(buffer, ct).ConfigureAwait(false);
            await _inner.FlushAsync(ct).ConfigureAwait(false);
        }
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override void Flush() => _inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>The service's resource-limits.yaml, re-read when it changes; a broken file is reported, never replaced by defaults.</summary>
internal sealed class ConfigCache
{
    private readonly Ds01Paths _paths;
    private readonly object _gate = new();
    private (DateTime Stamp, long Length) _key;
    private (ResourceLimitsConfig? Config, string? Problem) _value;

    public ConfigCache(Ds01Paths paths) => _paths = paths;

    public (ResourceLimitsConfig? Config, string? Problem) Get()
    {
        var file = new FileInfo(_paths.ResourceLimitsFile);
        var key = file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1L);
        lock (_gate)
        {
            if (key == _key && (_value.Config is not null || _value.Problem is not null)) return _value;
            try { _value = (new ConfigStore(_paths).ResourceLimits, null); }
            catch (Ds01Exception e) { _value = (null, e.Message); }
            _key = key;
            return _value;
        }
    }
}

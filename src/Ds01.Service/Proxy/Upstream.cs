using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ds01.Service.Http;

namespace Ds01.Service.Proxy;

/// <summary>Connections to dockerd (unix:// or tcp://), for the relayed requests and for the policy's own lookups.</summary>
internal sealed class Upstream
{
    private readonly EndPoint _endpoint;

    public Upstream(string docker)
    {
        Endpoint = docker;
        var uri = new Uri(docker);
        _endpoint = uri.Scheme switch
        {
            "unix" => new UnixDomainSocketEndPoint(uri.AbsolutePath),
            "tcp" or "http" => new DnsEndPoint(uri.Host, uri.Port),
            _ => throw new ArgumentException($"unsupported Docker endpoint '{docker}' (unix:// or tcp://)"),
        };
    }

    public string Endpoint { get; }

    public async Task<Socket> ConnectAsync(CancellationToken ct)
    {
        var socket = _endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endpoint, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A GET of the policy's own (status, JSON body); 404 gives a null document.</summary>
    public async Task<(int Status, JsonDocument? Body)> GetJsonAsync(string path, CancellationToken ct)
    {
        using var socket = await ConnectAsync(ct).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request, ct).ConfigureAwait(false);
        var reader = new HttpReader(stream);
        var headText = await reader.ReadHeadAsync(ct).ConfigureAwait(false) ?? throw new IOException("dockerd closed the connection");
        var head = HttpHead.Parse(headText);
        var status = int.Parse(head.StartLine.Split(' ')[1]);
        var (framing, length) = head.Framing(isRequest: false);
        using var body = new MemoryStream();
        if (framing == BodyFraming.Length) await reader.CopyExactAsync(length, body, ct).ConfigureAwait(false);
        else if (framing == BodyFraming.Chunked) body.Write(await reader.ReadBodyAsync(BodyFraming.Chunked, -1, 64 * 1024 * 1024, ct).ConfigureAwait(false));
        else if (framing == BodyFraming.UntilClose) await reader.CopyToEndAsync(body, ct).ConfigureAwait(false);
        if (status != 200 || body.Length == 0) return (status, null);
        return (status, JsonDocument.Parse(body.ToArray()));
    }
}

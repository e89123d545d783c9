using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Ds01.Core;
using Ds01.Core.Docker;
using Xunit;

namespace Ds01.Tests.Unit.Docker;

/// <summary>
/// Faults at the Docker boundary, with real sockets: a hung daemon is an OperationTimeout within the configured
/// limit, a refused port or an unknown scheme a ConnectionError, never a raw exception or a 10-minute hang.
/// </summary>
public sealed class DockerEngineFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ds01-docker-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task A_daemon_that_accepts_but_never_answers_times_out_as_operation_timeout()
    {
        var path = Path.Combine(_dir, "hung.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(16); // accepted by the kernel, never read: a stopped (SIGSTOP) dockerd looks like this
        using var engine = new DockerEngine("unix://" + path, TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<Ds01Exception>(() => engine.ListContainersAsync(null, CancellationToken.None));
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.5, 20);
        Assert.Equal((Ds01ErrorKind.OperationTimeout, "DockerTimeout"), (e.Kind, e.ErrorId));
        Assert.Contains(Ds01.Core.Docker.DockerEngine.TimeoutVariable, e.RecommendedAction);
    }

    [Fact]
    public async Task A_refused_tcp_port_and_a_missing_socket_are_connection_errors()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0)) { probe.Start(); port = ((IPEndPoint)probe.LocalEndpoint).Port; }
        using var tcp = new DockerEngine($"tcp://127.0.0.1:{port}", TimeSpan.FromSeconds(5));
        var refused = await Assert.ThrowsAsync<Ds01Exception>(() => tcp.GetSystemInfoAsync(CancellationToken.None));
        Assert.Equal((Ds01ErrorKind.ConnectionError, "DockerUnreachable"), (refused.Kind, refused.ErrorId));

        using var gone = new DockerEngine("unix://" + Path.Combine(_dir, "no.sock"), TimeSpan.FromSeconds(5));
        var missing = await Assert.ThrowsAsync<Ds01Exception>(() => gone.ListContainersAsync(null, CancellationToken.None));
        Assert.Equal(Ds01ErrorKind.ConnectionError, missing.Kind);
    }

    [Fact]
    public async Task A_daemon_that_dies_after_reading_the_request_is_a_connection_error_saying_so()
    {
        // What a client of a SIGKILLed dockerd sees mid-request (tests/Integration/DockerdRestartTests.cs): the
        // request was read, then the connection closes with no answer at all.
        var path = Path.Combine(_dir, "dying.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(16);
        var server = Task.Run(async () =>
        {
            using var conn = await listener.AcceptAsync();
            await conn.ReceiveAsync(new byte[65536], SocketFlags.None);
            conn.Shutdown(SocketShutdown.Both);
        });
        using var engine = new DockerEngine("unix://" + path, TimeSpan.FromSeconds(10));
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<Ds01Exception>(() => engine.ListContainersAsync(null, CancellationToken.None));
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 5);
        Assert.Equal((Ds01ErrorKind.ConnectionError, "DockerUnreachable"), (e.Kind, e.ErrorId));
        Assert.Contains("the connection closed before Docker answered", e.Message);
        Assert.DoesNotContain("Sequence contains no elements", e.Message);
        await server;
    }

    [Theory]
    [InlineData("ftp://x")]
    [InlineData("not a uri")]
    public void An_unusable_endpoint_is_a_connection_error_at_once(string endpoint)
    {
        var e = Assert.Throws<Ds01Exception>(() => new DockerEngine(endpoint));
        Assert.Equal((Ds01ErrorKind.ConnectionError, "DockerEndpointInvalid"), (e.Kind, e.ErrorId));
    }
}

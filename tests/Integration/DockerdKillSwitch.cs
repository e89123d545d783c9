using System.Net.Sockets;
using System.Text;

namespace Ds01.Tests.Integration;

/// <summary>
/// A unix socket in front of a <see cref="PrivateDockerd"/> that passes bytes both ways until a client request
/// contains <c>trigger</c> (e.g. "/containers/create?name=TAG"); then it kills the daemon at a chosen point of that
/// request: before forwarding it (dockerd never sees the create), or after forwarding it with dockerd's answer
/// withheld and <c>delay</c> to work on it (the container may well exist, but its creator never hears so). The
/// client's connection is then closed, as a dying daemon's would be. It fires once.
/// </summary>
public sealed class DockerdKillSwitch : IDisposable
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly string _upstream;
    private readonly string _trigger;
    private readonly bool _forwardFirst;
    private readonly TimeSpan _delay;
    private readonly Action _kill;
    private readonly CancellationTokenSource _stop = new();
    private int _fired;

    public DockerdKillSwitch(string path, string upstreamSocket, string trigger, bool forwardFirst, TimeSpan delay, Action kill)
    {
        _path = path;
        _upstream = upstreamSocket;
        _trigger = trigger;
        _forwardFirst = forwardFirst;
        _delay = delay;
        _kill = kill;
        File.Delete(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(64);
        _ = Task.Run(AcceptLoop);
    }

    public string Host => "unix://" + _path;

    /// <summary>True once the trigger was seen and the daemon killed.</summary>
    public bool Fired => Volatile.Read(ref _fired) == 1;

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Relay(client));
        }
    }

    private async Task Relay(Socket client)
    {
        using (client)
        using (var upstream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try { await upstream.ConnectAsync(new UnixDomainSocketEndPoint(_upstream)); }
            catch (SocketException) { return; } // the daemon is dead: the client sees its connection closed
            var muted = false;
            var back = Task.Run(async () =>
            {
                var buf = new byte[65536];
                try
                {
                    int n;
                    while ((n = await upstream.ReceiveAsync(buf, SocketFlags.None)) > 0)
                        if (!Volatile.Read(ref muted)) await client.SendAsync(buf.AsMemory(0, n), SocketFlags.None);
                }
                catch (Exception) { /* either side gone */ }
                // Muted, the client hears nothing until the daemon is dead (dockerd may close after its answer).
                if (!Volatile.Read(ref muted))
                    try { client.Shutdown(SocketShutdown.Both); } catch (Exception) { }
            });
            var data = new byte[65536];
            var tail = "";
            try
            {
                int n;
                while ((n = await client.ReceiveAsync(data, SocketFlags.None)) > 0)
                {
                    // The request line may straddle two reads: search the end of the last read too.
                    var seen = tail + Encoding.Latin1.GetString(data, 0, n);
                    tail = seen.Length > 512 ? seen[^512..] : seen;
                    if (seen.Contains(_trigger, StringComparison.Ordinal) && Interlocked.Exchange(ref _fired, 1) == 0)
                    {
                        if (!_forwardFirst)
                        {
                            _kill();
                            break;
                        }
                        // The body follows in later reads: keep passing it on while dockerd works, then kill.
                        Volatile.Write(ref muted, true);
                        _ = Task.Run(async () =>
                        {
                            await Task.Delay(_delay);
                            try { _kill(); } catch (Exception) { /* the test sees the daemon still running */ }
                            try { client.Shutdown(SocketShutdown.Both); } catch (Exception) { }
                            try { upstream.Shutdown(SocketShutdown.Both); } catch (Exception) { }
                        });
                    }
                    await upstream.SendAsync(data.AsMemory(0, n), SocketFlags.None);
                }
            }
            catch (Exception) { /* either side gone */ }
            try { client.Shutdown(SocketShutdown.Both); } catch (Exception) { }
            try { upstream.Shutdown(SocketShutdown.Both); } catch (Exception) { }
            await back;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        File.Delete(_path);
    }
}

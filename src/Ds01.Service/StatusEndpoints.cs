using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ds01.Service;

/// <summary>The optional status listener: loopback only, read-only.</summary>
internal static class StatusEndpoints
{
    public static void Listen(KestrelServerOptions k, string listen)
    {
        var colon = listen.LastIndexOf(':');
        if (colon < 0 || !IPAddress.TryParse(listen[..colon].Trim('[', ']'), out var address) || !int.TryParse(listen[(colon + 1)..], out var port))
            throw new Core.Ds01Exception(Core.Ds01ErrorKind.InvalidArgument, "InvalidStatusListen", $"--status-listen '{listen}' is not ADDRESS:PORT.", listen);
        if (!IPAddress.IsLoopback(address))
            throw new Core.Ds01Exception(Core.Ds01ErrorKind.InvalidArgument, "StatusListenNotLoopback",
                $"--status-listen {listen} is not a loopback address; the status page is for this machine only.", listen, "Use 127.0.0.1:PORT.");
        k.Listen(address, port);
    }

    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
    }
}

using System.Net.Sockets;

namespace Ds01.Service;

/// <summary>The process on the other end of a Unix socket, as the kernel reports it (SO_PEERCRED): nothing the client sends can change it.</summary>
internal readonly record struct PeerCredentials(int Pid, int Uid, int Gid)
{
    private const int SolSocket = 1, SoPeerCred = 17;

    public static PeerCredentials Of(Socket socket)
    {
        var buf = new byte[12];
        var n = socket.GetRawSocketOption(SolSocket, SoPeerCred, buf);
        if (n != 12) throw new InvalidOperationException("SO_PEERCRED returned " + n + " bytes");
        return new PeerCredentials(BitConverter.ToInt32(buf, 0), (int)BitConverter.ToUInt32(buf, 4), (int)BitConverter.ToUInt32(buf, 8));
    }
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Ds01.Core.Docker;

/// <summary>
/// Reads one HTTP/1.x response from a socket: the status code and the body (Content-Length, chunked, or up to the
/// close). Just enough for <see cref="SocketListEngine"/>'s GETs; anything malformed is InvalidDataException.
/// </summary>
public static class HttpResponseReader
{
    /// <summary>Larger bodies are refused: a list of thousands of containers is a few MB.</summary>
    public const int MaxBody = 64 * 1024 * 1024;

    public static (int Status, byte[] Body) Read(Socket socket) => Read(new NetworkStream(socket, ownsSocket: false));

    public static (int Status, byte[] Body) Read(Stream stream)
    {
        var reader = new Buffered(stream);
        var statusLine = reader.ReadLine() ?? throw new InvalidDataException("the connection closed before an HTTP answer");
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            throw new InvalidDataException($"not an HTTP answer: '{Truncate(statusLine)}'");

        long? length = null;
        var chunked = false;
        for (var line = reader.ReadLine(); ; line = reader.ReadLine())
        {
            if (line is null) throw new InvalidDataException("the connection closed inside the HTTP headers");
            if (line.Length == 0) break;
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                length = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= MaxBody
                    ? n : throw new InvalidDataException($"bad or too large Content-Length '{Truncate(value)}'");
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                chunked = true;
        }

        var body = new MemoryStream();
        if (chunked)
        {
            while (true)
            {
                var sizeLine = reader.ReadLine() ?? throw new InvalidDataException("the connection closed inside a chunked body");
                var semi = sizeLine.IndexOf(';');
                if (!int.TryParse(semi >= 0 ? sizeLine[..semi] : sizeLine, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size)
                    || size < 0 || body.Length + size > MaxBody)
                    throw new InvalidDataException($"bad chunk size '{Truncate(sizeLine)}'");
                if (size == 0) break;
                reader.CopyExactly(body, size);
                if (reader.ReadLine() is not "") throw new InvalidDataException("a chunk does not end with CRLF");
            }
        }
        else if (length is { } exact) reader.CopyExactly(body, (int)exact);
        else if (status is not (204 or 304)) reader.CopyToEnd(body);
        return (status, body.ToArray());
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";

    /// <summary>A read buffer over the stream, for lines and exact byte counts.</summary>
    private sealed class Buffered(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start, _end;

        private bool Fill()
        {
            if (_start < _end) return true;
            _start = 0;
            _end = stream.Read(_buffer, 0, _buffer.Length);
            return _end > 0;
        }

        /// <summary>One line without its CRLF; null at the end of the stream.</summary>
        public string? ReadLine()
        {
            var line = new StringBuilder();
            while (Fill())
            {
                var i = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                var stop = i < 0 ? _end : i;
                line.Append(Encoding.ASCII.GetString(_buffer, _start, stop - _start));
                if (line.Length > 64 * 1024) throw new InvalidDataException("an HTTP line is too long");
                _start = i < 0 ? _end : i + 1;
                if (i >= 0) return line.Length > 0 && line[^1] == '\r' ? line.ToString(0, line.Length - 1) : line.ToString();
            }
            return line.Length > 0 ? line.ToString() : null;
        }

        public void CopyExactly(Stream to, int count)
        {
            while (count > 0)
            {
                if (!Fill()) throw new InvalidDataException("the connection closed inside the HTTP body");
                var n = Math.Min(count, _end - _start);
                to.Write(_buffer, _start, n);
                _start += n;
                count -= n;
            }
        }

        public void CopyToEnd(Stream to)
        {
            while (Fill())
            {
                if (to.Length + (_end - _start) > MaxBody) throw new InvalidDataException("the HTTP body is too large");
                to.Write(_buffer, _start, _end - _start);
                _start = _end;
            }
        }
    }
}

using System.Text;

namespace Ds01.Service.Http;

/// <summary>
/// A buffered reader over one side of an HTTP/1.1 connection: message heads, chunk-size lines and raw bytes.
/// The proxy works at this level (not through Kestrel's HTTP layer) because Docker's hijacked endpoints send a
/// body together with "Connection: Upgrade", which Kestrel rejects with 400 (UpgradeRequestCannotHavePayload).
/// </summary>
internal sealed class HttpReader
{
    public const int MaxHeadBytes = 64 * 1024;
    private readonly Stream _stream;
    private byte[] _buf = new byte[16 * 1024];
    private int _start, _end;

    public HttpReader(Stream stream) => _stream = stream;

    public int Buffered => _end - _start;

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (_start > 0 && _start == _end) { _start = _end = 0; }
        if (_end == _buf.Length)
        {
            if (_start > 0) { Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start); _end -= _start; _start = 0; }
            else Array.Resize(ref _buf, _buf.Length * 2);
        }
        var n = await _stream.ReadAsync(_buf.AsMemory(_end), ct).ConfigureAwait(false);
        if (n <= 0) return false;
        _end += n;
        return true;
    }

    /// <summary>The head up to the blank line (without it), or null at a clean end of stream before any byte.</summary>
    public async Task<string?> ReadHeadAsync(CancellationToken ct)
    {
        var scanFrom = _start;
        while (true)
        {
            var i = IndexOf(_buf, _start, _end, scanFrom);
            if (i >= 0)
            {
                var head = Encoding.Latin1.GetString(_buf, _start, i - _start);
                _start = i + 4;
                return head;
            }
            if (_end - _start > MaxHeadBytes) throw new HttpFormatException("message head too large");
            scanFrom = Math.Max(_start, _end - 3);
            var keep = scanFrom - _start;
            if (!await FillAsync(ct).ConfigureAwait(false))
            {
                if (_end == _start) return null;
                throw new HttpFormatException("connection closed inside a message head");
            }
            scanFrom = _start + keep;
        }
    }

    private static int IndexOf(byte[] b, int start, int end, int from)
    {
        for (var i = Math.Max(start, from); i + 3 < end; i++)
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') return i;
        return -1;
    }

    /// <summary>One CRLF-terminated line (chunk sizes, trailers), without the CRLF.</summary>
    public async Task<string> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            for (var i = _start; i + 1 < _end; i++)
            {
                if (_buf[i] == '\r' && _buf[i + 1] == '\n')
                {
                    var line = Encoding.Latin1.GetString(_buf, _start, i - _start);
                    _start = i + 2;
                    return line;
                }
            }
            if (_end - _start > 8192) throw new HttpFormatException("line too long");
            if (!await FillAsync(ct).ConfigureAwait(false)) throw new HttpFormatException("connection closed inside a chunked body");
        }
    }

    /// <summary>Up to dest.Length bytes: buffered ones first, then from the stream; 0 at end of stream.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> dest, CancellationToken ct)
    {
        if (_end > _start)
        {
            var n = Math.Min(dest.Length, _end - _start);
            _buf.AsMemory(_start, n).CopyTo(dest);
            _start += n;
            return n;
        }
        return await _stream.ReadAsync(dest, ct).ConfigureAwait(false);
    }

    /// <summary>Copies exactly <paramref name="count"/> bytes to <paramref name="to"/>.</summary>
    public async Task CopyExactAsync(long count, Stream to, CancellationToken ct)
    {
        var chunk = new byte[Math.Min(count, 64 * 1024)];
        while (count > 0)
        {
            var n = await ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, count)), ct).ConfigureAwait(false);
            if (n <= 0) throw new HttpFormatException("connection closed inside a body");
            await to.WriteAsync(chunk.AsMemory(0, n), ct).ConfigureAwait(false);
            count -= n;
        }
    }

    /// <summary>Copies until end of stream.</summary>
    public async Task CopyToEndAsync(Stream to, CancellationToken ct)
    {
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var n = await ReadAsync(chunk, ct).ConfigureAwait(false);
            if (n <= 0) return;
            await to.WriteAsync(chunk.AsMemory(0, n), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Relays a chunked body as it arrives (so `logs -f` and streaming stats flow), through its last chunk and trailers.</summary>
    public async Task RelayChunkedAsync(Stream to, CancellationToken ct)
    {
        while (true)
        {
            var line = await ReadLineAsync(ct).ConfigureAwait(false);
            var size = ParseChunkSize(line);
            await to.WriteAsync(Encoding.Latin1.GetBytes(line + "\r\n"), ct).ConfigureAwait(false);
            if (size == 0)
            {
                while (true)
                {
                    var trailer = await ReadLineAsync(ct).ConfigureAwait(false);
                    await to.WriteAsync(Encoding.Latin1.GetBytes(trailer + "\r\n"), ct).ConfigureAwait(false);
                    if (trailer.Length == 0) return;
                }
            }
            await CopyExactAsync(size + 2, to, ct).ConfigureAwait(false);
            await to.FlushAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a whole body into memory (for the requests the policy inspects), refusing more than <paramref name="max"/> bytes.</summary>
    public async Task<byte[]> ReadBodyAsync(BodyFraming framing, long length, int max, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        if (framing == BodyFraming.Length)
        {
            if (length > max) throw new HttpFormatException($"request body larger than {max} bytes");
            await CopyExactAsync(length, ms, ct).ConfigureAwait(false);
        }
        else if (framing == BodyFraming.Chunked)
        {
            while (true)
            {
                var size = ParseChunkSize(await ReadLineAsync(ct).ConfigureAwait(false));
                if (size == 0)
                {
                    while ((await ReadLineAsync(ct).ConfigureAwait(false)).Length > 0) { }
                    break;
                }
                if (ms.Length + size > max) throw new HttpFormatException($"request body larger than {max} bytes");
                await CopyExactAsync(size, ms, ct).ConfigureAwait(false);
                if ((await ReadLineAsync(ct).ConfigureAwait(false)).Length != 0) throw new HttpFormatException("bad chunk end");
            }
        }
        return ms.ToArray();
    }

    private static long ParseChunkSize(string line)
    {
        var semi = line.IndexOf(';');
        var hex = (semi >= 0 ? line[..semi] : line).Trim();
        if (hex.Length == 0 || hex.Length > 15 || !long.TryParse(hex, System.Globalization.NumberStyles.AllowHexSpecifier, null, out var size))
            throw new HttpFormatException("bad chunk size");
        return size;
    }
}

internal enum BodyFraming { None, Length, Chunked, UntilClose }

internal sealed class HttpFormatException : Exception
{
    public HttpFormatException(string message) : base(message) { }
}

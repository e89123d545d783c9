using System.Text;

namespace Ds01.Service.Http;

/// <summary>A request or response head: the start line and the header fields, in order.</summary>
internal sealed class HttpHead
{
    private HttpHead(string startLine, List<KeyValuePair<string, string>> headers)
    {
        StartLine = startLine;
        Headers = headers;
    }

    public string StartLine { get; set; }
    public List<KeyValuePair<string, string>> Headers { get; }

    public static HttpHead Parse(string text)
    {
        var lines = text.Split("\r\n");
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            // Obsolete line folding and whitespace before the colon are smuggling tools: refuse them.
            if (line.Length == 0 || line[0] is ' ' or '\t') throw new HttpFormatException("folded or empty header line");
            var colon = line.IndexOf(':');
            if (colon <= 0 || line[colon - 1] is ' ' or '\t') throw new HttpFormatException("malformed header line");
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }
        return new HttpHead(lines[0], headers);
    }

    public IEnumerable<string> All(string name) =>
        Headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public string? Get(string name) => All(name).FirstOrDefault();

    public void Remove(string name) => Headers.RemoveAll(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));

    public void Set(string name, string value)
    {
        Remove(name);
        Headers.Add(new(name, value));
    }

    public bool HasToken(string name, string token) =>
        All(name).SelectMany(v => v.Split(',')).Any(t => t.Trim().Equals(token, StringComparison.OrdinalIgnoreCase));

    /// <summary>How the message's body is delimited; both Content-Length and Transfer-Encoding, or several lengths, are refused.</summary>
    public (BodyFraming Framing, long Length) Framing(bool isRequest)
    {
        var te = All("Transfer-Encoding").ToList();
        var cl = All("Content-Length").ToList();
        if (te.Count > 0)
        {
            if (cl.Count > 0) throw new HttpFormatException("both Content-Length and Transfer-Encoding");
            if (te.Count != 1 || !te[0].Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase))
                throw new HttpFormatException("unsupported Transfer-Encoding");
            return (BodyFraming.Chunked, -1);
        }
        if (cl.Count > 0)
        {
            if (cl.Distinct().Count() != 1 || !long.TryParse(cl[0], System.Globalization.NumberStyles.None, null, out var n))
                throw new HttpFormatException("bad Content-Length");
            return n == 0 ? (BodyFraming.None, 0) : (BodyFraming.Length, n);
        }
        return isRequest ? (BodyFraming.None, 0) : (BodyFraming.UntilClose, -1);
    }

    public byte[] ToBytes()
    {
        var sb = new StringBuilder(StartLine.Length + Headers.Count * 32);
        sb.Append(StartLine).Append("\r\n");
        foreach (var (k, v) in Headers) sb.Append(k).Append(": ").Append(v).Append("\r\n");
        sb.Append("\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }
}

using System.Text.RegularExpressions;
using Ds01.Core;
using Ds01.Service.Http;

namespace Ds01.Service.Proxy;

/// <summary>
/// A Docker Engine API request as the policy sees it: method, the path without its /vX.Y prefix, split into
/// segments, and the query. Paths are decoded once and refused when they could mean something else to dockerd's
/// router (dot segments, empty segments, encoded slashes), so what is checked is what dockerd serves.
/// </summary>
internal sealed class ApiRequest
{
    private static readonly Regex VersionPrefix = new(@"^/v(\d+)\.(\d+)(/.*)$", RegexOptions.CultureInvariant);

    /// <summary>API versions below this let a start request carry a HostConfig (removed in 1.24); the CLI and Docker.DotNet negotiate 1.41.</summary>
    public static readonly Version MinimumVersion = new(1, 40);

    private ApiRequest(string method, string path, IReadOnlyList<string> segments, IReadOnlyList<KeyValuePair<string, string>> query, HttpHead head)
    {
        Method = method; Path = path; Segments = segments; Query = query; Head = head;
    }

    public string Method { get; }
    public string Path { get; }
    public IReadOnlyList<string> Segments { get; }
    public IReadOnlyList<KeyValuePair<string, string>> Query { get; }
    public HttpHead Head { get; }

    public bool Is(string method, params string[] segments) =>
        Method == method && Segments.Count == segments.Length && segments.Select((s, i) => s == "*" || s == Segments[i]).All(b => b);

    public string? QueryValue(string key)
    {
        var values = Query.Where(q => q.Key == key).Select(q => q.Value).ToList();
        if (values.Count > 1)
            throw Deny.BadRequest("DuplicateQueryParameter", $"The query parameter '{key}' appears more than once.", key);
        return values.FirstOrDefault();
    }

    public IReadOnlyList<string> QueryValues(string key) => Query.Where(q => q.Key == key).Select(q => q.Value).ToList();

    public bool QueryFlag(string key) => QueryValue(key) is { } v && v is not ("" or "0" or "false" or "False");

    public static ApiRequest Parse(HttpHead head)
    {
        var parts = head.StartLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            throw new HttpFormatException("bad request line");
        var method = parts[0];
        var target = parts[1];
        var q = target.IndexOf('?');
        var rawPath = q >= 0 ? target[..q] : target;
        var rawQuery = q >= 0 ? target[(q + 1)..] : "";
        if (!rawPath.StartsWith('/') || rawPath.Contains("%2f", StringComparison.OrdinalIgnoreCase) || rawPath.Contains("%5c", StringComparison.OrdinalIgnoreCase))
            throw Deny.BadRequest("UnsafePath", $"The path '{rawPath}' is not one ds01d accepts.", rawPath);
        var path = Uri.UnescapeDataString(rawPath);
        var m = VersionPrefix.Match(path);
        if (m.Success)
        {
            var v = new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));
            if (v < MinimumVersion)
                throw Deny.BadRequest("ApiVersionTooOld", $"API version {v} is older than ds01d accepts ({MinimumVersion}).", v.ToString(),
                    "Use a current docker CLI or Docker.DotNet, which negotiate the daemon's version.");
            path = m.Groups[3].Value;
        }
        var segments = path.Split('/').Skip(1).ToList();
        if (segments.Any(s => s is "" or "." or "..") && path != "/")
            throw Deny.BadRequest("UnsafePath", $"The path '{path}' is not one ds01d accepts.", path);
        // Go's query parser rejects ';' (since 1.17): refuse it here too, so both sides read the same parameters.
        if (rawQuery.Contains(';'))
            throw Deny.BadRequest("UnsafeQuery", "A query with ';' is not accepted.", rawQuery);
        var query = new List<KeyValuePair<string, string>>();
        foreach (var pair in rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            string Dec(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
            query.Add(eq < 0 ? new(Dec(pair), "") : new(Dec(pair[..eq]), Dec(pair[(eq + 1)..])));
        }
        return new ApiRequest(method, path, segments, query, head);
    }
}

/// <summary>Shorthands for the refusals the policy gives; each is a Ds01Exception the client maps back to its error record.</summary>
internal static class Deny
{
    public static Ds01Exception Forbidden(string id, string message, object? target, string? action = null) =>
        new(Ds01ErrorKind.PermissionDenied, id, message, target, action);

    public static Ds01Exception BadRequest(string id, string message, object? target, string? action = null) =>
        new(Ds01ErrorKind.InvalidArgument, id, message, target, action);

    public static Ds01Exception AdminsOnly(ApiRequest r) => Forbidden("EndpointNotAllowed",
        $"{r.Method} {r.Path} is for admins only under ds01d.", r.Path,
        "Ds01's cmdlets and ds01 cover what users need; ask an admin for volumes, networks, prune and the like.");
}

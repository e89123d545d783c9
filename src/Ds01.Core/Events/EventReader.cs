using System.Text;
using System.Text.Json;
using Ds01.Core.Naming;

namespace Ds01.Core.Events;

/// <summary>What to keep while reading the log; every field is optional.</summary>
public sealed class EventFilter
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    /// <summary>Keep only events about these users (a non-admin's reads are pinned to their own name).</summary>
    public IReadOnlyCollection<string>? Users { get; init; }
    /// <summary>Wildcards on the type (cleanup.*).</summary>
    public IReadOnlyCollection<string>? Types { get; init; }
    /// <summary>Wildcards on the container tag or its name part.</summary>
    public IReadOnlyCollection<string>? Containers { get; init; }
}

/// <summary>Counts what the reader could not use, for one warning at the end.</summary>
public sealed class EventReadStats
{
    public long Lines { get; internal set; }
    public long Invalid { get; internal set; }
    public List<string> UnreadableFiles { get; } = new();
}

/// <summary>
/// Streams events.jsonl and its rotated files (events.jsonl.N, highest N oldest) in time order. Lines are cut
/// from a byte buffer and parsed with Utf8JsonReader, so memory stays flat however long the log is; a line that
/// is not a JSON object with a timestamp and a type is counted, not thrown. Reads DS01's envelope and the
/// older ts/action/resource form.
/// </summary>
public static class EventReader
{
    /// <summary>The log and its rotated files that exist, oldest first.</summary>
    public static IReadOnlyList<string> Files(string logFile)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(logFile))!;
        var name = Path.GetFileName(logFile);
        var rotated = new List<(int N, string Path)>();
        if (Directory.Exists(dir))
            foreach (var f in Directory.EnumerateFiles(dir, name + ".*"))
                if (Path.GetFileName(f) is var fn && fn.Length > name.Length + 1 && int.TryParse(fn.AsSpan(name.Length + 1), out var n) && n > 0)
                    rotated.Add((n, f));
        var files = rotated.OrderByDescending(r => r.N).Select(r => r.Path).ToList();
        if (File.Exists(logFile)) files.Add(logFile);
        return files;
    }

    public static IEnumerable<Ds01Event> Read(IEnumerable<string> files, EventFilter? filter, EventReadStats stats)
    {
        filter ??= new EventFilter();
        var users = filter.Users is null ? null : new HashSet<string>(filter.Users, StringComparer.Ordinal);
        var type = Glob.Matcher(filter.Types);
        var container = Glob.Matcher(filter.Containers);
        var anyContainer = filter.Containers is { Count: > 0 };
        var pool = new StringPool();
        foreach (var file in files)
        {
            FileStream stream;
            try { stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { stats.UnreadableFiles.Add($"{file}: {e.Message}"); continue; }
            using (stream)
            {
                foreach (var line in Lines(stream))
                {
                    stats.Lines++;
                    var e = Parse(line.Span, pool);
                    if (e is null) { stats.Invalid++; continue; }
                    if (filter.Since is { } since && e.Timestamp < since) continue;
                    if (filter.Until is { } until && e.Timestamp > until) continue;
                    if (users is not null && !users.Contains(e.User)) continue;
                    if (!type(e.Type)) continue;
                    if (anyContainer && !(container(e.Container) || container(ContainerNaming.ParseTag(e.Container).Name))) continue;
                    yield return e;
                }
            }
        }
    }

    /// <summary>
    /// A line longer than this is not an event (the writer keeps each under 4096 bytes); it is skipped up to its
    /// newline instead of buffered, so one huge line cannot take the reader's memory.
    /// </summary>
    public const int MaxLineBytes = 1 << 20;

    // Lines without their newline; an oversized line comes back as one empty line, which parses as not an event.
    private static IEnumerable<ReadOnlyMemory<byte>> Lines(Stream s)
    {
        var buf = new byte[1 << 16];
        int start = 0, end = 0;
        var skipping = false;
        while (true)
        {
            var nl = Array.IndexOf(buf, (byte)'\n', start, end - start);
            if (nl >= 0)
            {
                if (skipping) { skipping = false; yield return ReadOnlyMemory<byte>.Empty; }
                else if (nl > start) yield return new ReadOnlyMemory<byte>(buf, start, nl - start);
                start = nl + 1;
                continue;
            }
            if (skipping) start = end = 0;
            // No newline in what is buffered: move the partial line to the front (or grow) and read more.
            if (start > 0) { Buffer.BlockCopy(buf, start, buf, 0, end - start); end -= start; start = 0; }
            if (end == buf.Length)
            {
                if (buf.Length >= MaxLineBytes) { skipping = true; start = end = 0; }
                else Array.Resize(ref buf, buf.Length * 2);
            }
            var n = s.Read(buf, end, buf.Length - end);
            if (n == 0)
            {
                if (skipping) yield return ReadOnlyMemory<byte>.Empty;
                else if (end > start) yield return new ReadOnlyMemory<byte>(buf, start, end - start);
                yield break;
            }
            end += n;
        }
    }

    /// <summary>One line, or null when it is not an event.</summary>
    public static Ds01Event? Parse(ReadOnlySpan<byte> line) => Parse(line, null);

    internal static Ds01Event? Parse(ReadOnlySpan<byte> line, StringPool? pool)
    {
        try
        {
            var r = new Utf8JsonReader(line);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return null;
            DateTimeOffset? ts = null;
            string? type = null, user = null, source = null, schema = null, resource = null, topOutcome = null, topGpu = null;
            string? container = null, gpu = null, slots = null, outcome = null, by = null, details = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var key = Name(ref r, pool);
                r.Read();
                switch (key)
                {
                    case "timestamp" or "ts":
                        if (r.TokenType == JsonTokenType.String)
                            ts = r.TryGetDateTimeOffset(out var t) ? t : DateTimeOffset.TryParse(r.GetString(), System.Globalization.CultureInfo.InvariantCulture,
                                System.Globalization.DateTimeStyles.AssumeUniversal, out var t2) ? t2 : null;
                        break;
                    case "event_type" or "action": type = Text(ref r, pool); break;
                    case "user": user = Text(ref r, pool); break;
                    case "source": source = Text(ref r, pool); break;
                    case "schema_version": schema = Text(ref r, pool); break;
                    case "resource": resource = Text(ref r, pool); break;
                    case "outcome": topOutcome = Text(ref r, pool); break;
                    case "gpu": topGpu = Text(ref r, pool); break;
                    case "details" when r.TokenType == JsonTokenType.StartObject:
                        var begin = (int)r.TokenStartIndex;
                        var depth = r.CurrentDepth;
                        while (r.Read() && !(r.TokenType == JsonTokenType.EndObject && r.CurrentDepth == depth))
                        {
                            if (r.TokenType != JsonTokenType.PropertyName) continue;
                            var k = Name(ref r, pool);
                            r.Read();
                            switch (k)
                            {
                                case "container": container = Text(ref r, pool); break;
                                case "gpu": gpu = Text(ref r, pool); break;
                                case "slots": slots = Text(ref r, pool); break;
                                case "outcome": outcome = Text(ref r, pool); break;
                                case "by": by = Text(ref r, pool); break;
                                default: r.Skip(); break;
                            }
                        }
                        details = Encoding.UTF8.GetString(line.Slice(begin, (int)r.BytesConsumed - begin));
                        break;
                    default: r.Skip(); break;
                }
            }
            if (ts is null || string.IsNullOrEmpty(type)) return null;
            user ??= "";
            return new Ds01Event
            {
                Timestamp = ts.Value,
                Type = type!,
                User = user,
                Actor = string.IsNullOrEmpty(by) ? user : by!,
                Source = source ?? "",
                Container = container ?? resource ?? "",
                Gpu = !string.IsNullOrEmpty(gpu) ? gpu! : slots ?? topGpu ?? "",
                Outcome = outcome ?? topOutcome ?? "",
                SchemaVersion = schema ?? "",
                Details = details ?? "{}",
            };
        }
        catch (JsonException) { return null; }
        catch (InvalidOperationException) { return null; }
    }

    private static string? Name(ref Utf8JsonReader r, StringPool? pool) =>
        pool is not null && !r.HasValueSequence && !r.ValueIsEscaped ? pool.Get(r.ValueSpan) : r.GetString();

    // Strings as they are; numbers and booleans as their JSON text; objects and arrays skipped.
    private static string? Text(ref Utf8JsonReader r, StringPool? pool)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.String:
                return pool is not null && !r.HasValueSequence && !r.ValueIsEscaped ? pool.Get(r.ValueSpan) : r.GetString();
            case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False:
                return r.HasValueSequence ? Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(r.ValueSequence)) : Encoding.UTF8.GetString(r.ValueSpan);
            case JsonTokenType.Null: return null;
            default: r.Skip(); return null;
        }
    }

    /// <summary>
    /// Users, types, sources and containers repeat on almost every line: one string per distinct short value
    /// instead of one per line (a small direct-mapped cache; a miss just makes a new string).
    /// </summary>
    internal sealed class StringPool
    {
        private readonly (byte[] Key, string Value)?[] _slots = new (byte[], string)?[4096];

        public string Get(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length > 64) return Encoding.UTF8.GetString(utf8);
            uint h = 2166136261;
            foreach (var b in utf8) h = (h ^ b) * 16777619;
            ref var slot = ref _slots[h & 4095];
            if (slot is { } hit && utf8.SequenceEqual(hit.Key)) return hit.Value;
            var value = Encoding.UTF8.GetString(utf8);
            slot = (utf8.ToArray(), value);
            return value;
        }
    }
}

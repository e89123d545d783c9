using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Ds01.Core.Events;

/// <summary>
/// Appends events to events.jsonl, one write(2) per line on an O_APPEND descriptor so concurrent writers
/// never interleave; lines are kept under 4096 bytes (PIPE_BUF) by trimming details. Logging never throws:
/// an audit log that cannot be written must not break the action (a warning is returned instead).
/// </summary>
public sealed class EventLog
{
    public const int MaxLineBytes = 4095;
    public const string SchemaVersion = "1";
    private readonly string _file;
    private readonly string _source;

    public EventLog(string file, string source = "ds01-powershell")
    {
        _file = file;
        _source = source;
    }

    public string File => _file;

    /// <summary>Writes one event; returns null on success or the reason it could not be written.</summary>
    public string? Write(string eventType, string user, IReadOnlyDictionary<string, object?>? details = null,
        DateTimeOffset? at = null)
    {
        try
        {
            var line = Serialize(eventType, user, details ?? new Dictionary<string, object?>(), at ?? DateTimeOffset.UtcNow);
            Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
            AppendLine(_file, line);
            return null;
        }
        catch (Exception e)
        {
            return $"could not write event {eventType} to {_file}: {e.Message}";
        }
    }

    internal byte[] Serialize(string eventType, string user, IReadOnlyDictionary<string, object?> details, DateTimeOffset at)
    {
        var bytes = Encode(eventType, user, details, at);
        if (bytes.Length <= MaxLineBytes) return bytes;
        // Too long: keep the envelope, cut long detail values, then drop details altogether.
        var trimmed = details.ToDictionary(kv => kv.Key,
            kv => kv.Value is string s && s.Length > 200 ? (object?)(s.Substring(0, 200) + "…") : kv.Value);
        trimmed["truncated"] = true;
        bytes = Encode(eventType, user, trimmed, at);
        if (bytes.Length <= MaxLineBytes) return bytes;
        return Encode(eventType, user, new Dictionary<string, object?> { ["truncated"] = true }, at);
    }

    private byte[] Encode(string eventType, string user, IReadOnlyDictionary<string, object?> details, DateTimeOffset at)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("timestamp", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"));
            w.WriteString("event_type", eventType);
            w.WriteString("schema_version", SchemaVersion);
            w.WriteString("user", user);
            w.WriteString("source", _source);
            w.WritePropertyName("details");
            JsonSerializer.Serialize(w, details);
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }

    private const int O_WRONLY = 0x1, O_CREAT = 0x40, O_APPEND = 0x400, O_CLOEXEC = 0x80000;

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
    [DllImport("libc", SetLastError = true)] private static extern IntPtr write(int fd, byte[] buf, IntPtr count);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);

    private static void AppendLine(string file, byte[] line)
    {
        var fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd < 0) throw new IOException($"open failed (errno {Marshal.GetLastWin32Error()})");
        try
        {
            var n = write(fd, line, (IntPtr)line.Length);
            if ((long)n != line.Length) throw new IOException($"short write (errno {Marshal.GetLastWin32Error()})");
        }
        finally
        {
            close(fd);
        }
    }
}

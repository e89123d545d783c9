using System.Runtime.InteropServices;
using System.Text.Json;

namespace Ds01.Core.Events;

/// <summary>
/// Appends events to events.jsonl, one write(2) per line on an O_APPEND descriptor so concurrent writers
/// never interleave; lines are kept under 4096 bytes (PIPE_BUF) by trimming details. Logging never throws and
/// never hangs: an audit log that cannot be written must not break the action (a warning is returned instead).
/// The file is opened non-blocking and must be a regular file, so a FIFO, a device or a directory planted at
/// the path is refused; a nearly full file system is refused before writing, and a short write is cut back,
/// so the log only ever holds whole lines.
/// </summary>
public sealed class EventLog
{
    public const int MaxLineBytes = 4095;
    public const string SchemaVersion = "1";
    /// <summary>Free space kept beyond the line itself: a write that may not fit is not started.</summary>
    public const long FreeSpaceMargin = 4096;
    private readonly string _file;
    private readonly string _source;

    public EventLog(string file, string source = "ds01-powershell")
    {
        _file = file;
        _source = source;
    }

    public string File => _file;
    public string Source => _source;

    /// <summary>Writes one event; returns null on success or the reason it could not be written.</summary>
    public string? Write(string eventType, string user, IReadOnlyDictionary<string, object?>? details = null,
        DateTimeOffset? at = null)
    {
        try
        {
            var line = Serialize(eventType, user, details ?? new Dictionary<string, object?>(), at ?? DateTimeOffset.UtcNow);
            var dir = Path.GetDirectoryName(_file)!;
            if (!Directory.Exists(dir)) Directory.CreateDirectory(dir);
            AppendLine(_file, line);
            return null;
        }
        catch (Exception e)
        {
            return $"The event {eventType} was not written to {_file}: {e.Message}";
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
        bytes = Encode(eventType, user, new Dictionary<string, object?> { ["truncated"] = true }, at);
        if (bytes.Length <= MaxLineBytes) return bytes;
        // Only an absurd type or user name gets here; cut them rather than break the line limit.
        return Encode(Cut(eventType, 200), Cut(user, 200), new Dictionary<string, object?> { ["truncated"] = true }, at);
    }

    private static string Cut(string s, int n) => s.Length > n ? s.Substring(0, n) : s;

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

    private static void AppendLine(string file, byte[] line)
    {
        var fd = Native.OpenAppend(file);
        try
        {
            if (!Native.IsRegularFile(fd, out var why)) throw new IOException(why);
            var free = Native.FreeBytes(fd);
            if (free >= 0 && free < line.Length + FreeSpaceMargin)
                throw new IOException($"the file system holding the log is full ({free} bytes free)");
            var n = Native.Write(fd, line);
            if (n == line.Length) return;
            if (n > 0) Native.CutBack(fd, n);
            throw new IOException(n < 0 ? $"write failed ({Native.LastError()})" : "short write; the partial line was removed");
        }
        finally
        {
            Native.Close(fd);
        }
    }

    /// <summary>libc calls .NET does not expose: O_APPEND|O_NONBLOCK opens, statx file type, fstatvfs.</summary>
    internal static class Native
    {
        private const int O_WRONLY = 0x1, O_CREAT = 0x40, O_NOCTTY = 0x100, O_APPEND = 0x400, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
        private const int AT_EMPTY_PATH = 0x1000, STATX_TYPE = 0x1, STATX_SIZE = 0x200;
        private const int SEEK_CUR = 1;

        [DllImport("libc", SetLastError = true)]
        private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
        [DllImport("libc", SetLastError = true)] private static extern IntPtr write(int fd, byte[] buf, IntPtr count);
        [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
        [DllImport("libc", SetLastError = true)] private static extern long lseek(int fd, long offset, int whence);
        [DllImport("libc", SetLastError = true)] private static extern int ftruncate(int fd, long length);
        [DllImport("libc", SetLastError = true)] private static extern int fstatvfs(int fd, byte[] buf);
        [DllImport("libc", SetLastError = true)]
        private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mask, byte[] buf);
        [DllImport("libc")] private static extern IntPtr strerror(int errnum);

        public static string LastError()
        {
            var errno = Marshal.GetLastWin32Error();
            return $"{Marshal.PtrToStringUTF8(strerror(errno))}, errno {errno}";
        }

        public static int OpenAppend(string file)
        {
            // Non-blocking: opening a FIFO nobody reads fails at once (ENXIO) instead of hanging the command.
            var fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, Convert.ToInt32("644", 8));
            if (fd < 0) throw new IOException($"cannot open it ({LastError()})");
            return fd;
        }

        /// <summary>statx has one layout on every architecture (struct stat does not): stx_mode at 28, stx_size at 40.</summary>
        public static bool IsRegularFile(int fd, out string why)
        {
            var buf = new byte[256];
            try
            {
                if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE, buf) != 0) { why = $"cannot stat it ({LastError()})"; return false; }
            }
            catch (EntryPointNotFoundException)
            {
                // A libc without statx (glibc before 2.28): the non-blocking open already rules out a hang.
                why = "";
                return true;
            }
            var mode = BitConverter.ToUInt16(buf, 28) & 0xF000;
            why = mode switch
            {
                0x8000 => "",
                0x1000 => "it is a FIFO, not a regular file",
                0x4000 => "it is a directory",
                0x2000 or 0x6000 => "it is a device, not a regular file",
                0xC000 => "it is a socket, not a regular file",
                _ => "it is not a regular file",
            };
            return mode == 0x8000;
        }

        public static long Size(int fd)
        {
            var buf = new byte[256];
            try { return statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, buf) == 0 ? (long)BitConverter.ToUInt64(buf, 40) : -1; }
            catch (EntryPointNotFoundException) { return -1; }
        }

        /// <summary>Bytes an unprivileged writer may still use (f_frsize × f_bavail), or -1 when unknown.</summary>
        public static long FreeBytes(int fd)
        {
            var buf = new byte[128]; // struct statvfs on 64-bit Linux: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, ...
            if (fstatvfs(fd, buf) != 0) return -1;
            var frsize = BitConverter.ToUInt64(buf, 8);
            var bavail = BitConverter.ToUInt64(buf, 32);
            return (long)Math.Min(frsize * bavail, long.MaxValue);
        }

        public static long Write(int fd, byte[] line) => (long)write(fd, line, (IntPtr)line.Length);

        /// <summary>
        /// After a short append the fragment ends where our offset is; cut it off, unless another writer has
        /// appended since (then the fragment is not at the end and cutting would remove their line).
        /// </summary>
        public static void CutBack(int fd, long written)
        {
            var end = lseek(fd, 0, SEEK_CUR);
            if (end > 0 && Size(fd) == end) ftruncate(fd, end - written);
        }

        public static void Close(int fd) => close(fd);
    }
}

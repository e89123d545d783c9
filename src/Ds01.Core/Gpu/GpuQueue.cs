using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ds01.Core.Gpu;

/// <summary>A request waiting for GPU slots (Start/New-Ds01Container -Wait).</summary>
public sealed record GpuQueueEntry(
    [property: JsonIgnore] string Id,
    string User,
    string Container,
    int Count,
    int Priority,
    DateTimeOffset RequestedAt,
    DateTimeOffset? ExpiresAt,
    int? Pid,
    string? Slot = null,
    bool AllowFullGpu = true,
    DateTimeOffset? SeenAt = null)
{
    /// <summary>Who owns the entry's file (the kernel's word, unlike the User field anyone can write); null when not read from a file.</summary>
    [JsonIgnore] public int? FileUid { get; init; }
}

/// <summary>
/// Waiting requests as one JSON file each under $DS01_STATE_DIR/gpu-queue/. Not locked itself: callers read and
/// change it under the AllocationLock, together with the allocation it leads to. Served by priority (higher
/// first), then arrival.
/// </summary>
public sealed class GpuQueue
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly TimeProvider _time;

    public GpuQueue(string stateDir, TimeProvider? time = null)
    {
        Directory = Path.Combine(stateDir, Ds01Paths.GpuQueueDirName);
        _time = time ?? TimeProvider.System;
    }

    public string Directory { get; }

    /// <param name="expiresAt">When the waiter gives up (-TimeoutSec); later the entry no longer counts.</param>
    /// <param name="pid">The waiting process; once it is gone the entry no longer counts, so a killed waiter cannot block the line.</param>
    public GpuQueueEntry Enqueue(string user, string container, int count, int priority,
        DateTimeOffset? expiresAt = null, int? pid = null, string? slot = null, bool allowFullGpu = true)
    {
        if (count < 1)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuCount", $"A queued request needs at least one GPU, not {count}.", count);
        if (!System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.CreateDirectory(Directory);
            // Every user may wait (sticky, like /tmp: each removes only their own entries), whoever queued first.
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.StickyBit);
        }
        var now = _time.GetUtcNow();
        // Time first in the name so a directory listing reads in arrival order; the GUID keeps names unique.
        var id = $"{now.UtcTicks:D19}-{Guid.NewGuid():N}";
        var entry = new GpuQueueEntry(id, user, container, count, priority, now, expiresAt, pid, slot, allowFullGpu)
        {
            FileUid = OperatingSystem.IsWindows() ? null : Posix.EffectiveUid, // the file written below is ours
        };
        var file = FileOf(id);
        var temp = file + ".tmp";
        // Write then rename, so a reader never sees half an entry.
        File.WriteAllText(temp, JsonSerializer.Serialize(entry, Json));
        File.Move(temp, file);
        return entry;
    }

    /// <summary>Entries still waiting, in serving order; expired entries, dead waiters and unreadable files are left out.</summary>
    public IReadOnlyList<GpuQueueEntry> List() => Read().Where(e => e.Entry is not null && IsLive(e.Entry))
        .Select(e => e.Entry!).OrderBy(e => e, ServingOrder.Instance).ToList();

    /// <summary>Entries as ds01d hands its queue to clients (GET /_ds01/gpu-queue): the file format, as a JSON array.</summary>
    public static string Serialize(IEnumerable<GpuQueueEntry> entries) => JsonSerializer.Serialize(entries.ToList(), Json);

    /// <summary>The other side of <see cref="Serialize"/>; entries that fail the file checks are left out.</summary>
    public static IReadOnlyList<GpuQueueEntry> Deserialize(string json) =>
        (JsonSerializer.Deserialize<List<GpuQueueEntry>>(json, Json) ?? new List<GpuQueueEntry>())
        .Where(e => e is not null && !string.IsNullOrEmpty(e.User) && !string.IsNullOrEmpty(e.Container) && e.Count is >= 1 and <= 64 && e.Priority is >= 0 and <= 100)
        .Take(MaxEntries).ToList();

    /// <summary>
    /// How long an entry counts without its waiter asking again (<see cref="Touch"/>). A waiter asks every 0.5 s (2 s
    /// through ds01d), each time after the allocation lock, which under heavy churn can take a minute (GpuConfig's
    /// default); one that stopped asking (a file with some live pid in it, a client that keeps its process but never
    /// asks again) holds the line no longer than this.
    /// </summary>
    public static readonly TimeSpan Staleness = TimeSpan.FromMinutes(2);

    /// <summary>The waiter is still asking: its entry keeps counting (its place, by RequestedAt, stays). Another user's file is left alone.</summary>
    public void Touch(GpuQueueEntry entry)
    {
        var file = FileOf(entry.Id);
        if (!File.Exists(file)) return;
        var temp = Path.Combine(Directory, $".{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, JsonSerializer.Serialize(entry with { SeenAt = _time.GetUtcNow() }, Json));
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception x) when (x is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>True when the entry was there and is now gone.</summary>
    public bool Remove(GpuQueueEntry entry)
    {
        var file = FileOf(entry.Id);
        if (!File.Exists(file)) return false;
        try { File.Delete(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        return true;
    }

    /// <summary>An entry file is a few hundred bytes; anything bigger is not ours and is not read.</summary>
    public const int MaxEntryBytes = 4096;

    /// <summary>At most this many entries are read, so a directory flooded with files cannot stall every create.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>Deletes expired entries, entries of dead waiters and unreadable files; returns how many.</summary>
    public int Prune()
    {
        var removed = 0;
        foreach (var (file, entry) in Read())
        {
            if (entry is not null && IsLive(entry)) continue;
            // In the sticky queue dir only the owner (or root) may delete; another user's junk is skipped, not fatal.
            try { File.Delete(file); removed++; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>
    /// Whether <paramref name="entry"/> may take slots now: it can be served, and no live entry ahead of it in
    /// serving order can. An entry ahead that cannot be served (it wants more than is free) does not block smaller
    /// requests behind it; that keeps GPUs busy, at the price that a large request can wait while small ones pass.
    /// </summary>
    public bool IsFirstInLine(GpuQueueEntry entry, Func<GpuQueueEntry, bool> canBeServed)
    {
        if (!canBeServed(entry)) return false;
        foreach (var other in List())
        {
            if (other.Id == entry.Id) return true;
            if (canBeServed(other)) return false;
        }
        // Not in the queue (removed, expired): it has no place in line.
        return false;
    }

    private bool IsLive(GpuQueueEntry e)
    {
        var now = _time.GetUtcNow();
        if (e.ExpiresAt is { } t && t <= now) return false;
        if (now - (e.SeenAt ?? e.RequestedAt) > Staleness) return false;
        if (e.Pid is { } pid)
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                if (p.HasExited) return false;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
        return true;
    }

    private IEnumerable<(string File, GpuQueueEntry? Entry)> Read()
    {
        if (!System.IO.Directory.Exists(Directory)) yield break;
        IEnumerable<string> files;
        try { files = System.IO.Directory.EnumerateFiles(Directory, "*.json").Take(MaxEntries).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var file in files)
            yield return (file, ReadEntry(file));
    }

    /// <summary>
    /// One entry, read without trusting it: anyone may drop files here, so a FIFO, a link, a 1 GB sparse file or
    /// a field out of range is unreadable (null), never a hang, an OutOfMemoryException or a claim that counts.
    /// </summary>
    internal static GpuQueueEntry? ReadEntry(string file)
    {
        try
        {
            var fd = Posix.Open(file, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_NOFOLLOW);
            if (fd < 0) return null;
            FileStatus st;
            try { st = Posix.Stat(fd); }
            finally { Posix.Close(fd); }
            var text = Posix.ReadBoundedText(file, MaxEntryBytes, noFollow: true);
            var entry = JsonSerializer.Deserialize<GpuQueueEntry>(text, Json);
            if (entry is null || string.IsNullOrEmpty(entry.User) || entry.User.Length > 256 || string.IsNullOrEmpty(entry.Container) ||
                entry.Container.Length > 256 || entry.Count is < 1 or > 64 || entry.Priority is < 0 or > 100 || entry.Pid is <= 0)
                return null;
            return entry with { Id = Path.GetFileNameWithoutExtension(file), FileUid = st.Uid };
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException or ArgumentException)
        {
            return null;
        }
    }

    private string FileOf(string id)
    {
        // Ids come from our own file names; refusing separators keeps a crafted id from naming another file.
        if (id.Length == 0 || id.IndexOfAny(new[] { '/', '\\', '.' }) >= 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidQueueEntry", $"'{id}' is not a queue entry id.", id);
        return Path.Combine(Directory, id + ".json");
    }

    private sealed class ServingOrder : IComparer<GpuQueueEntry>
    {
        public static readonly ServingOrder Instance = new();

        public int Compare(GpuQueueEntry? a, GpuQueueEntry? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            if (a is null) return 1;
            if (b is null) return -1;
            var c = b.Priority.CompareTo(a.Priority);
            if (c != 0) return c;
            c = a.RequestedAt.CompareTo(b.RequestedAt);
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        }
    }
}

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
    bool AllowFullGpu = true);

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
        Directory = Path.Combine(stateDir, "gpu-queue");
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
        var entry = new GpuQueueEntry(id, user, container, count, priority, now, expiresAt, pid, slot, allowFullGpu);
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

    /// <summary>True when the entry was there and is now gone.</summary>
    public bool Remove(GpuQueueEntry entry)
    {
        var file = FileOf(entry.Id);
        if (!File.Exists(file)) return false;
        File.Delete(file);
        return true;
    }

    /// <summary>Deletes expired entries, entries of dead waiters and unreadable files; returns how many.</summary>
    public int Prune()
    {
        var removed = 0;
        foreach (var (file, entry) in Read())
        {
            if (entry is not null && IsLive(entry)) continue;
            File.Delete(file);
            removed++;
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
        if (e.ExpiresAt is { } t && t <= _time.GetUtcNow()) return false;
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
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json"))
        {
            GpuQueueEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize<GpuQueueEntry>(File.ReadAllText(file), Json);
                if (entry is not null) entry = entry with { Id = Path.GetFileNameWithoutExtension(file) };
                if (entry is { User: null } or { Container: null }) entry = null;
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                entry = null;
            }
            yield return (file, entry);
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

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ds01.Core.Gpu;

/// <summary>Slots handed to a create that Docker has not yet confirmed or refused.</summary>
public sealed record GpuReservation(string Tag, string User, IReadOnlyList<string> Slots, IReadOnlyList<string> Uuids, int Pid,
    DateTimeOffset CreatedAt)
{
    /// <summary>Who owns the reservation's file (the kernel's word, unlike the User field anyone can write); null when not read from a file.</summary>
    [JsonIgnore] public int? FileUid { get; init; }
}

/// <summary>
/// A slot handed to a create stays taken until that create is known to have failed. The container's labels hold
/// its slots only once dockerd has made it; before that, a create killed inside the lock (SIGKILL: the kernel
/// drops the lock) could finish in dockerd after the next user had been given the same slot. So the slots are
/// written here, under the allocation lock, before Docker is asked, and the file goes when Docker answers: a
/// container made, or a definite error. A timeout or a killed creator is no answer; such a reservation counts until
/// the container appears (its labels take over) or <see cref="Grace"/> has passed.
/// One JSON file per container tag under $DS01_STATE_DIR/gpu-reservations/, read bounded like the queue.
/// </summary>
public sealed class GpuReservations
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>How long an unanswered reservation counts: longer than dockerd takes to finish a create.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);

    public const int MaxFileBytes = 4096;

    private readonly TimeProvider _time;

    public GpuReservations(string stateDir, TimeProvider? time = null)
    {
        Directory = Path.Combine(stateDir, Ds01Paths.GpuReservationsDirName);
        _time = time ?? TimeProvider.System;
    }

    public string Directory { get; }

    /// <summary>Records the slots for <paramref name="tag"/>; call under the allocation lock, before the create.</summary>
    public GpuReservation Reserve(string tag, string user, IReadOnlyList<string> slots, IReadOnlyList<string> uuids)
    {
        var r = new GpuReservation(tag, user, slots, uuids, Environment.ProcessId, _time.GetUtcNow());
        if (!System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.CreateDirectory(Directory);
            // Like the queue: every user reserves, each removes only their own (sticky).
            File.SetUnixFileMode(Directory, (UnixFileMode)0x3FF);
        }
        var file = FileOf(tag);
        var temp = Path.Combine(Directory, $".{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, JsonSerializer.Serialize(r, Json));
        File.Move(temp, file, overwrite: true);
        return r;
    }

    /// <summary>Docker answered: the container exists (its labels hold the slots) or the create definitely failed.</summary>
    public void Release(GpuReservation r)
    {
        try { File.Delete(FileOf(r.Tag)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* another user's file: it ages out */ }
    }

    /// <summary>Reservations that still count, given the container names that exist now.</summary>
    public IReadOnlyList<GpuReservation> Live(ISet<string> existingTags)
    {
        var result = new List<GpuReservation>();
        if (!System.IO.Directory.Exists(Directory)) return result;
        IEnumerable<string> files;
        try { files = System.IO.Directory.EnumerateFiles(Directory, "*.json").Take(GpuQueue.MaxEntries).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return result; }
        var now = _time.GetUtcNow();
        foreach (var file in files)
        {
            var r = Read(file);
            if (r is null) continue;
            if (existingTags.Contains(r.Tag))
            {
                // The create landed and the container's labels carry the slot now. The file of a creator that was killed
                // before it could release it would otherwise count again once that container is removed, holding a
                // slot nobody has for the rest of the grace time.
                Release(r);
                continue;
            }
            // Age alone decides: a creator that is still alive after a timeout knows no more than one that was killed.
            if (now - r.CreatedAt < Grace && r.CreatedAt <= now + TimeSpan.FromMinutes(1)) result.Add(r);
        }
        return result;
    }

    private static GpuReservation? Read(string file)
    {
        try
        {
            var fd = Posix.Open(file, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_NOFOLLOW);
            if (fd < 0) return null;
            FileStatus st;
            try { st = Posix.Stat(fd); }
            finally { Posix.Close(fd); }
            var r = JsonSerializer.Deserialize<GpuReservation>(Posix.ReadBoundedText(file, MaxFileBytes, noFollow: true), Json);
            if (r is null || string.IsNullOrEmpty(r.Tag) || string.IsNullOrEmpty(r.User) || r.Slots is null || r.Uuids is null ||
                r.Slots.Count is 0 or > 64 || Path.GetFileNameWithoutExtension(file) != r.Tag)
                return null;
            return r with { FileUid = st.Uid };
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException or ArgumentException)
        {
            return null;
        }
    }

    private string FileOf(string tag)
    {
        // Tags are name._.uid with Docker's name characters; anything else cannot name a file here.
        if (tag.Length == 0 || tag.Length > 128 || tag.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')) || tag.StartsWith('.'))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidReservation", $"'{tag}' cannot name a reservation.", tag);
        return Path.Combine(Directory, tag + ".json");
    }
}

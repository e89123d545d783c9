using System.Runtime.InteropServices;

namespace Ds01.Core.Events;

/// <summary>What one rotation would do: which file moves where, which old ones go.</summary>
public sealed record EventLogRotationPlan(string LogFile, DateTimeOffset OldestEvent, IReadOnlyList<(string From, string To)> Moves,
    IReadOnlyList<string> Deletes);

/// <summary>
/// Weekly rotation keeping 4 weeks, logrotate style: when the first event in events.jsonl is a week old, the
/// file becomes events.jsonl.1 (older ones shift to .2 … .4, and anything past the retention is deleted) and a
/// fresh events.jsonl takes its owner and mode, so users can still append. Writers that opened the old file
/// just before finish their line there; EventReader reads the rotated files, oldest first.
/// </summary>
public static class EventLogRotation
{
    public static readonly TimeSpan Period = TimeSpan.FromDays(7);
    public const int RetentionWeeks = 4;

    public static EventLogRotationPlan? Plan(string logFile, DateTimeOffset now, int retention = RetentionWeeks)
    {
        if (!File.Exists(logFile)) return null;
        var oldest = FirstEventTime(logFile);
        if (oldest is null || now - oldest.Value < Period) return null;
        var rotated = EventReader.Files(logFile).Where(f => f != logFile)
            .Select(f => (N: int.Parse(Path.GetFileName(f).Substring(Path.GetFileName(logFile).Length + 1)), Path: f)).OrderByDescending(x => x.N).ToList();
        var moves = new List<(string, string)>();
        var deletes = new List<string>();
        foreach (var (n, path) in rotated)
        {
            if (n + 1 > retention) deletes.Add(path);
            else moves.Add((path, $"{logFile}.{n + 1}"));
        }
        moves.Add((logFile, $"{logFile}.1"));
        return new EventLogRotationPlan(logFile, oldest.Value, moves, deletes);
    }

    public static void Apply(EventLogRotationPlan plan)
    {
        var file = plan.LogFile;
        var mode = File.GetUnixFileMode(file);
        var (uid, gid) = Owner(file);
        foreach (var d in plan.Deletes) File.Delete(d);
        // The fresh file is made first and linked in without replacing: a writer that re-created events.jsonl
        // in the moment between the two renames keeps its line.
        var fresh = file + ".new";
        File.Delete(fresh);
        using (File.Create(fresh)) { }
        File.SetUnixFileMode(fresh, mode);
        if (uid >= 0) Posix.Lchown(fresh, uid, gid);
        foreach (var (from, to) in plan.Moves) File.Move(from, to, overwrite: true);
        try { File.Move(fresh, file, overwrite: false); }
        catch (IOException) { File.Delete(fresh); }
    }

    /// <summary>The timestamp of the first parseable line (the log is appended in time order).</summary>
    public static DateTimeOffset? FirstEventTime(string file)
    {
        var stats = new EventReadStats();
        foreach (var e in EventReader.Read(new[] { file }, null, stats)) return e.Timestamp;
        return null;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mask, byte[] buf);

    private static (int Uid, int Gid) Owner(string path)
    {
        const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, STATX_UID = 0x8, STATX_GID = 0x10;
        var buf = new byte[256];
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_UID | STATX_GID, buf) != 0) return (-1, -1);
        return ((int)BitConverter.ToUInt32(buf, 20), (int)BitConverter.ToUInt32(buf, 24));
    }
}

namespace Ds01.Core;

/// <summary>
/// The shared state of direct mode (no ds01d), made by `ds01d install --direct`: every user's own process takes the
/// allocation lock, queues in gpu-queue/, reserves in gpu-reservations/ and appends to the event log, so these must
/// exist before the first user comes and be root's (AllocationLock.OpenLockFile refuses a lock file a user owns in a
/// root-owned state dir, since its owner could chmod it and lock everyone out). Safe to run again: it repairs the
/// owner and mode of what exists, and refuses a symlink or an entry of the wrong kind before changing anything.
/// </summary>
public static class DirectModeLayout
{
    /// <summary>One path, what it must be (root:root, <paramref name="Mode"/>), and why.</summary>
    public sealed record Entry(string Path, bool IsDirectory, int Mode, string Why);

    private static int Octal(string mode) => Convert.ToInt32(mode, 8);

    /// <summary>In creation order: each directory before what it holds.</summary>
    public static IReadOnlyList<Entry> Entries(Ds01Paths p) =>
    [
        new(p.ConfigDir, true, Octal("755"), "root's: the config names admins and quotas"),
        new(p.StateDir, true, Octal("755"), "root's: users cannot drop files here or remove the lock"),
        new(p.AllocationLockFile, false, Octal("644"), "root's: every user may flock it (a read descriptor suffices), nobody chmod or remove it"),
        new(p.GpuQueueDir, true, Octal("1777"), "sticky: every user queues, each removes only their own entries"),
        new(p.GpuReservationsDir, true, Octal("1777"), "sticky: every user reserves, each removes only their own entries"),
        new(p.LogDir, true, Octal("755"), "root's: nobody replaces the log"),
        new(p.EventLogFile, false, Octal("622"), "every user's commands append events"),
    ];

    /// <summary>Creates or repairs every entry; returns one line per entry saying what it did. Root only.</summary>
    public static IReadOnlyList<string> Apply(Ds01Paths paths)
    {
        if (Posix.EffectiveUid != 0)
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "InstallNeedsRoot",
                $"The direct-mode install makes root-owned files; you are uid {Posix.EffectiveUid}.", paths.StateDir, "Run it as root.");
        var entries = Entries(paths);
        // Everything is checked first, so a refused entry leaves the rest as it was.
        foreach (var e in entries)
            if (Posix.Stat(e.Path, noFollow: true) is { } st) CheckKind(e, st);
        var report = new List<string>();
        foreach (var e in entries)
        {
            try { report.Add(Ensure(e)); }
            catch (IOException x) { throw Failed(e, x); }
            catch (UnauthorizedAccessException x) { throw Failed(e, x); }
        }
        return report;
    }

    private static string Ensure(Entry e)
    {
        var created = false;
        if (Posix.Stat(e.Path, noFollow: true) is null)
        {
            // Only the top-level directories' parents can be missing here (system directories such as /var/lib).
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(e.Path)!);
            if (e.IsDirectory) Directory.CreateDirectory(e.Path);
            else
            {
                var made = Posix.Open(e.Path, Posix.O_WRONLY | Posix.O_CREAT | Posix.O_EXCL | Posix.O_NOFOLLOW | Posix.O_NONBLOCK, 0);
                if (made < 0) throw new IOException($"it cannot be created: {Posix.Error(made)}");
                Posix.Close(made);
            }
            created = true;
        }
        // Owner and mode are changed through a descriptor opened without following links, so a link swapped in
        // after the check above is refused rather than followed.
        var fd = Posix.Open(e.Path, Posix.O_RDONLY | Posix.O_NOFOLLOW | Posix.O_NONBLOCK | (e.IsDirectory ? Posix.O_DIRECTORY : 0));
        // A swap between the check and here: the entries before this one were set up already.
        if (fd == -Posix.ELOOP) throw Refused(e, "InstallEntryIsSymlink", "became a symbolic link during the install", checkedFirst: false);
        if (fd == -20 /* ENOTDIR */) throw Refused(e, "InstallEntryWrongType", "stopped being a directory during the install", checkedFirst: false);
        if (fd < 0) throw new IOException($"it cannot be opened: {Posix.Error(fd)}");
        try
        {
            var st = Posix.Stat(fd);
            CheckKind(e, st, checkedFirst: false);
            var changes = new List<string>();
            if (st.Uid != 0 || st.Gid != 0)
            {
                Posix.Fchown(fd, 0, 0);
                changes.Add($"owner {st.Uid}:{st.Gid} -> 0:0");
            }
            var mode = (int)st.Mode & Octal("7777");
            // chown clears set-id bits, so the mode is set after it (and compared with what it was before).
            if (mode != e.Mode || changes.Count > 0)
            {
                Posix.Fchmod(fd, e.Mode);
                if (mode != e.Mode) changes.Add($"mode {Convert.ToString(mode, 8)} -> {Convert.ToString(e.Mode, 8)}");
            }
            var what = $"{e.Path} (root:root {Convert.ToString(e.Mode, 8).PadLeft(4, '0')}; {e.Why})";
            return created ? $"created {what}" : changes.Count > 0 ? $"repaired {what}: {string.Join(", ", changes)}" : $"kept {what}";
        }
        finally { Posix.Close(fd); }
    }

    private static void CheckKind(Entry e, FileStatus st, bool checkedFirst = true)
    {
        if (st.IsSymlink) throw Refused(e, "InstallEntryIsSymlink", "is a symbolic link", checkedFirst);
        if (e.IsDirectory ? !st.IsDirectory : !st.IsRegular)
            throw Refused(e, "InstallEntryWrongType",
                $"is {(st.IsDirectory ? "a directory" : st.IsRegular ? "a regular file" : st.IsFifo ? "a FIFO" : "a special file")}, not {(e.IsDirectory ? "a directory" : "a regular file")}", checkedFirst);
    }

    private static Ds01Exception Refused(Entry e, string id, string what, bool checkedFirst) =>
        new(Ds01ErrorKind.InvalidData, id, $"'{e.Path}' {what}; {(checkedFirst ? "nothing was changed" : "it and the entries after it were left as they are")}.", e.Path,
            "Find out who made it (a link there could send root's chown and chmod elsewhere), move it away, and run 'ds01d install --direct' again.");

    private static Ds01Exception Failed(Entry e, Exception inner) =>
        new(Ds01ErrorKind.InvalidOperation, "InstallFailed", $"'{e.Path}' could not be set up: {inner.Message}", e.Path,
            "Fix the cause (a read-only file system, chattr +a on a log with the wrong mode) and run 'ds01d install --direct' again.", inner);
}

using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// `ds01d install --direct --root DIR` (no service): the shared lock, queue, reservations and event log are root's,
/// and two real accounts (useradd, through setpriv) may use them as direct mode needs but not take them over.
/// </summary>
[Collection("engine")]
public class DirectInstallTests
{
    private static ServiceTestBed.Result Install(string root) =>
        ServiceTestBed.RunRoot("dotnet", ServiceTestBed.ServiceDll, "install", "--direct", "--root", root);

    /// <summary>uid:gid and octal mode of each path, as stat(1) reports them.</summary>
    private static Dictionary<string, string> Owners(params string[] paths)
    {
        var r = ServiceTestBed.RunRoot("stat", new[] { "-c", "%n|%u:%g %a" }.Concat(paths).ToArray());
        Assert.True(r.Code == 0, r.All);
        return r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|')).ToDictionary(p => p[0], p => p[1]);
    }

    [Fact]
    public void Direct_install_makes_root_owned_shared_state_that_both_users_may_lock_and_queue_in_but_not_take_over()
    {
        using var bed = new ServiceTestBed(startService: false);
        var root = Path.Combine(bed.Root, "direct");
        var install = Install(root);
        Assert.True(install.Code == 0, install.All);
        var paths = new Ds01Paths(Path.Combine(root, "etc/ds01"), Path.Combine(root, "var/lib/ds01"), Path.Combine(root, "var/log/ds01"));
        var expected = new Dictionary<string, string>
        {
            [paths.ConfigDir] = "0:0 755", [paths.StateDir] = "0:0 755", [paths.AllocationLockFile] = "0:0 644",
            [paths.GpuQueueDir] = "0:0 1777", [paths.GpuReservationsDir] = "0:0 1777", [paths.LogDir] = "0:0 755", [paths.EventLogFile] = "0:0 622",
        };
        Assert.Equal(expected, Owners(expected.Keys.ToArray()));
        Assert.False(File.Exists(Path.Combine(root, "etc/systemd/system/ds01d.service")), "direct mode writes no unit");
        var (alice, bob) = (bed.Alice, bed.Bob);
        string[] Args(params string[] a) => a;
        var lockFile = paths.AllocationLockFile;

        // Both may take the allocation lock (util-linux flock, as the product's flock(2)), and it is the one lock:
        // while root holds it through the product, neither gets it.
        foreach (var user in new[] { alice, bob })
        {
            var took = bed.As(user, "flock", Args("-n", "-E", "42", lockFile, "true"));
            Assert.True(took.Code == 0, $"{user.Name}: {took.All}");
        }
        using (AllocationLock.Acquire(lockFile, TimeSpan.FromSeconds(5)))
            Assert.Equal(42, bed.As(bob, "flock", Args("-n", "-E", "42", lockFile, "true")).Code);

        // Neither may chmod it (locking everyone else out) or remove it, nor drop files in the state dir.
        foreach (var user in new[] { alice, bob })
        {
            Assert.NotEqual(0, bed.As(user, "chmod", Args("000", lockFile)).Code);
            Assert.NotEqual(0, bed.As(user, "rm", Args("-f", lockFile)).Code);
            Assert.NotEqual(0, bed.As(user, "touch", Args(Path.Combine(paths.StateDir, $"{user.Name}.lock"))).Code);
        }
        Assert.Equal("0:0 644", Owners(lockFile)[lockFile]);

        // Each may queue; Bob cannot remove Alice's entry (sticky), Alice can.
        var alicesEntry = Path.Combine(paths.GpuQueueDir, $"{alice.Name}.json");
        var bobsEntry = Path.Combine(paths.GpuReservationsDir, $"{bob.Name}.json");
        Assert.Equal(0, bed.As(alice, "touch", Args(alicesEntry)).Code);
        Assert.Equal(0, bed.As(bob, "touch", Args(bobsEntry)).Code);
        Assert.NotEqual(0, bed.As(bob, "rm", Args("-f", alicesEntry)).Code);
        Assert.True(File.Exists(alicesEntry), "Bob removed Alice's queue entry");
        Assert.NotEqual(0, bed.As(alice, "rm", Args("-f", bobsEntry)).Code);
        Assert.True(File.Exists(bobsEntry), "Alice removed Bob's reservation");

        // The event log takes every user's lines, but nobody reads the others' back or replaces it.
        Assert.Equal(0, bed.As(alice, "tee", Args("-a", paths.EventLogFile), stdin: "{\"from\":\"alice\"}\n").Code);
        Assert.NotEqual(0, bed.As(bob, "cat", Args(paths.EventLogFile)).Code);
        Assert.NotEqual(0, bed.As(bob, "rm", Args("-f", paths.EventLogFile)).Code);
        Assert.Equal("{\"from\":\"alice\"}\n", File.ReadAllText(paths.EventLogFile));

        // Safe twice: nothing changes, the users' entries and the log's lines stay.
        var again = Install(root);
        Assert.True(again.Code == 0, again.All);
        Assert.Equal(7, again.Out.Split('\n').Count(l => l.StartsWith("kept ", StringComparison.Ordinal)));
        Assert.DoesNotContain(again.Out.Split('\n'), l => l.StartsWith("created ", StringComparison.Ordinal) || l.StartsWith("repaired ", StringComparison.Ordinal));
        Assert.Equal(expected, Owners(expected.Keys.ToArray()));
        Assert.True(File.Exists(alicesEntry));
        Assert.Equal("{\"from\":\"alice\"}\n", File.ReadAllText(paths.EventLogFile));

        // A state dir left 0700 by the service install and a lock file a user made (a private state dir's) are repaired.
        File.SetUnixFileMode(paths.StateDir, (UnixFileMode)Convert.ToInt32("700", 8));
        Assert.Equal(0, ServiceTestBed.RunRoot("chown", $"{alice.Uid}:{alice.Gid}", lockFile).Code);
        File.SetUnixFileMode(lockFile, (UnixFileMode)Convert.ToInt32("600", 8));
        var repair = Install(root);
        Assert.True(repair.Code == 0, repair.All);
        Assert.Contains($"repaired {paths.StateDir} ", repair.Out);
        Assert.Contains($"repaired {lockFile} ", repair.Out);
        Assert.Equal(expected, Owners(expected.Keys.ToArray()));
        Assert.Equal(0, bed.As(bob, "flock", Args("-n", lockFile, "true")).Code);
    }

    [Fact]
    public void Direct_install_refuses_a_symlink_or_an_entry_of_the_wrong_kind_and_changes_nothing()
    {
        using var bed = new ServiceTestBed(startService: false);
        var root = Path.Combine(bed.Root, "direct");
        Assert.Equal(0, Install(root).Code);
        var paths = new Ds01Paths(Path.Combine(root, "etc/ds01"), Path.Combine(root, "var/lib/ds01"), Path.Combine(root, "var/log/ds01"));
        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.SetUnixFileMode(elsewhere, (UnixFileMode)Convert.ToInt32("700", 8));

        foreach (var (entry, plant, id) in new (string, Action<string>, string)[]
        {
            (paths.GpuReservationsDir, p => File.CreateSymbolicLink(p, elsewhere), "InstallEntryIsSymlink"),
            (paths.AllocationLockFile, p => File.CreateSymbolicLink(p, Path.Combine(elsewhere, "x")), "InstallEntryIsSymlink"),
            (paths.GpuQueueDir, p => File.WriteAllText(p, ""), "InstallEntryWrongType"),
            (paths.EventLogFile, p => Directory.CreateDirectory(p), "InstallEntryWrongType"),
        })
        {
            if (Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
            plant(entry);
            // An earlier entry with a wrong mode shows that the refusal comes before any change.
            File.SetUnixFileMode(paths.StateDir, (UnixFileMode)Convert.ToInt32("700", 8));
            var r = Install(root);
            Assert.True(r.Code == 1, r.All);
            Assert.Contains($"(id: {id})", r.Err);
            Assert.Contains(entry, r.Err);
            Assert.Equal("0:0 700", Owners(paths.StateDir)[paths.StateDir]);
            Assert.Equal("0:0 700", Owners(elsewhere)[elsewhere]);
            Assert.Empty(Directory.GetFileSystemEntries(elsewhere));

            // Moved away, the next run makes it properly again.
            if (Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint)) Directory.Delete(entry);
            else File.Delete(entry);
            var fixedRun = Install(root);
            Assert.True(fixedRun.Code == 0, fixedRun.All);
            Assert.Contains($"created {entry} ", fixedRun.Out);
        }
    }
}

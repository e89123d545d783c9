using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>Files anyone can drop into the shared state dir are read bounded and validated: no hang, no OutOfMemory, no takeover.</summary>
public sealed class SharedStateFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ds01-state-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args)!;
        Assert.True(p.WaitForExit(10_000));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void A_huge_sparse_file_a_fifo_a_symlink_and_forged_fields_in_the_queue_are_ignored()
    {
        var queue = new GpuQueue(_dir);
        var real = queue.Enqueue("alice", "a._.1001", 1, 50);
        var sparse = Path.Combine(queue.Directory, "0000000000000000001-sparse.json");
        using (var f = File.Create(sparse)) f.SetLength(1_200_000_000); // 1.2 GB, no disk used
        Run("mkfifo", Path.Combine(queue.Directory, "0000000000000000002-fifo.json"));
        File.WriteAllText(Path.Combine(_dir, "elsewhere.json"), File.ReadAllText(Path.Combine(queue.Directory, real.Id + ".json")));
        File.CreateSymbolicLink(Path.Combine(queue.Directory, "0000000000000000003-link.json"), Path.Combine(_dir, "elsewhere.json"));
        File.WriteAllText(Path.Combine(queue.Directory, "0000000000000000004-forged.json"),
            """{"user":"mallory","container":"m._.1002","count":100000,"priority":1000000,"requested_at":"2026-01-01T00:00:00Z"}""");

        var clock = Stopwatch.StartNew();
        var listed = queue.List();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(real.Id, Assert.Single(listed).Id);
        Assert.Equal(Posix.EffectiveUid, listed[0].FileUid); // the kernel's word on who queued, for the priority cap
        Assert.Equal(4, queue.Prune()); // the unreadable ones go; the real waiter stays
        Assert.Single(queue.List());
    }

    [Fact]
    public void A_fifo_or_a_symlink_at_the_lock_path_is_refused_instead_of_blocking_or_followed()
    {
        var path = Path.Combine(_dir, "gpu-allocation.lock");
        Run("mkfifo", path);
        var clock = Stopwatch.StartNew();
        var fifo = Assert.Throws<Ds01Exception>(() => AllocationLock.Acquire(path, TimeSpan.FromSeconds(1)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal((Ds01ErrorKind.PermissionDenied, "AllocationLockUnavailable"), (fifo.Kind, fifo.ErrorId));
        Assert.Contains("not a regular file", fifo.Message);
        File.Delete(path);

        var target = Path.Combine(_dir, "victim");
        File.WriteAllText(target, "x");
        File.CreateSymbolicLink(path, target);
        var link = Assert.Throws<Ds01Exception>(() => AllocationLock.Acquire(path, TimeSpan.FromSeconds(1)));
        Assert.Contains("symbolic link", link.Message);
    }

    [Fact]
    public void In_a_root_owned_state_dir_a_lock_file_that_a_user_owns_is_refused()
    {
        Assert.Equal("root", Environment.UserName); // ownership needs real accounts; the suites run as root
        var path = Path.Combine(_dir, "gpu-allocation.lock");
        using (AllocationLock.Acquire(path, TimeSpan.FromSeconds(1)))
            Assert.Equal("-rw-r--r--", Mode(path)); // root's shared lock: others may lock (read) but not chmod or rewrite
        File.Delete(path);
        File.WriteAllText(path, "");
        Run("chown", "65534:65534", path); // as if nobody had allocated first and could now chmod 000 it
        var e = Assert.Throws<Ds01Exception>(() => AllocationLock.Acquire(path, TimeSpan.FromSeconds(1)));
        Assert.Equal("AllocationLockUnavailable", e.ErrorId);
        Assert.Contains("uid 65534", e.Message);
    }

    private static string Mode(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("stat", ["-c", "%A", path]) { RedirectStandardOutput = true })!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text;
    }
}

using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

public sealed class AllocationLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ds01-lock-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string LockPath => Path.Combine(_dir, "state", "nested", "gpu-allocation.lock");

    [Fact]
    public void A_second_acquisition_times_out_as_resource_busy_and_succeeds_after_release()
    {
        var first = AllocationLock.Acquire(LockPath, TimeSpan.FromSeconds(1));
        Assert.True(File.Exists(LockPath)); // the state dir was created
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<Ds01Exception>(() => AllocationLock.Acquire(LockPath, TimeSpan.FromMilliseconds(300)));
        Assert.True(clock.ElapsedMilliseconds >= 290, $"gave up after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(Ds01ErrorKind.ResourceBusy, e.Kind);
        Assert.Equal("AllocationLockTimeout", e.ErrorId);
        Assert.Contains(LockPath, e.Message);
        first.Dispose();
        using var second = AllocationLock.Acquire(LockPath, TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_waiter_gets_the_lock_once_the_holder_releases_it()
    {
        var first = AllocationLock.Acquire(LockPath, TimeSpan.FromSeconds(1));
        var release = Task.Run(async () => { await Task.Delay(300); first.Dispose(); });
        var clock = Stopwatch.StartNew();
        using (AllocationLock.Acquire(LockPath, TimeSpan.FromSeconds(10)))
            Assert.InRange(clock.ElapsedMilliseconds, 250, 9000);
        await release;
    }

    [Fact]
    public void Holders_are_mutually_exclusive_across_threads()
    {
        var inside = 0;
        var overlaps = 0;
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            using var l = AllocationLock.Acquire(LockPath, TimeSpan.FromSeconds(30));
            if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref overlaps);
            Thread.Sleep(5);
            Interlocked.Decrement(ref inside);
        });
        Assert.Equal(0, overlaps);
    }

    [Fact]
    public void A_lock_held_by_another_process_is_honoured()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LockPath)!);
        var psi = new ProcessStartInfo("flock") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-x", LockPath, "sh", "-c", "echo locked; exec sleep 30" }) psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        try
        {
            Assert.Equal("locked", child.StandardOutput.ReadLine());
            var e = Assert.Throws<Ds01Exception>(() => AllocationLock.Acquire(LockPath, TimeSpan.FromMilliseconds(300)));
            Assert.Equal("AllocationLockTimeout", e.ErrorId);
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        using var mine = AllocationLock.Acquire(LockPath, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Another_process_sees_our_lock()
    {
        int FlockNonBlocking()
        {
            var psi = new ProcessStartInfo("flock") { UseShellExecute = false };
            foreach (var a in new[] { "-n", "-x", LockPath, "true" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            return p.ExitCode;
        }
        using (AllocationLock.Acquire(LockPath, TimeSpan.FromSeconds(1)))
            Assert.NotEqual(0, FlockNonBlocking());
        Assert.Equal(0, FlockNonBlocking());
    }

    [Fact]
    public void A_lock_that_cannot_be_created_is_an_error_not_a_pass()
    {
        var file = Path.Combine(_dir, "plain-file");
        File.WriteAllText(file, "");
        var e = Assert.Throws<Ds01Exception>(() => AllocationLock.Acquire(Path.Combine(file, "sub", "gpu.lock"), TimeSpan.FromSeconds(1)));
        Assert.Equal("AllocationLockUnavailable", e.ErrorId);
    }
}

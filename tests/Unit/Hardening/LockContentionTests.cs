using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>The default lock wait covers ordinary contention: 16 processes each holding the lock in turn.</summary>
public sealed class LockContentionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ds01-churn-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void A_lock_held_as_long_as_16_creates_in_a_row_does_not_make_the_default_wait_time_out()
    {
        var path = Path.Combine(_dir, "gpu-allocation.lock");
        File.WriteAllText(path, "");
        // util-linux flock(1) takes the same flock(2) lock. 16 processes creating one after another each hold it for
        // a Docker list and create (1 to 6 s each on a loaded 2-core machine, see GpuConfig's default): one holder of 14 s
        // stands in for part of that queue, made deterministic.
        using var holder = Process.Start("flock", [path, "sleep", "14"]);
        Thread.Sleep(500);
        var clock = Stopwatch.StartNew();
        using (AllocationLock.Acquire(path, GpuConfig.Default("gpu-config.yaml").LockTimeout))
            Assert.InRange(clock.Elapsed.TotalSeconds, 10, 60); // longer than the former 10 s default, and no timeout
        holder.WaitForExit();
    }
}

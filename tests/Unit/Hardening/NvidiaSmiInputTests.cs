using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>nvidia-smi output that contradicts itself is InvalidData naming the line, never an ArgumentException or OverflowException.</summary>
public class NvidiaSmiInputTests
{
    private const string Gpu0 = "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-11111111-1111-1111-1111-111111111111)";
    private const string Gpu1 = "GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-22222222-2222-2222-2222-222222222222)";

    private static Ds01Exception Refused(string text, int line)
    {
        var e = Assert.Throws<Ds01Exception>(() => NvidiaSmiParser.ParseList(text));
        Assert.Equal(Ds01ErrorKind.InvalidData, e.Kind);
        Assert.StartsWith($"Line {line} of `nvidia-smi -L`", e.Message);
        return e;
    }

    [Fact]
    public void A_duplicate_gpu_index_is_refused_at_its_line()
    {
        var e = Refused($"{Gpu0}\n{Gpu1.Replace("GPU 1:", "GPU 0:")}\n", 2);
        Assert.Equal("NvidiaSmiOutputInconsistent", e.ErrorId);
        Assert.Contains("index 0 is listed twice", e.Message);
    }

    [Fact]
    public void A_huge_gpu_index_is_unrecognised_not_an_overflow()
    {
        var e = Refused($"{Gpu0}\n{Gpu1.Replace("GPU 1:", "GPU 99999999999999:")}\n", 2);
        Assert.Equal("NvidiaSmiOutputUnrecognised", e.ErrorId);
    }

    [Fact]
    public void A_duplicate_uuid_is_refused()
    {
        var e = Refused($"{Gpu0}\n{Gpu0.Replace("GPU 0:", "GPU 1:")}\n", 2);
        Assert.Contains("listed twice", e.Message);
        var mig = $"{Gpu0}\n  MIG 3g.40gb     Device  0: (UUID: MIG-aaaa)\n  MIG 3g.40gb     Device  1: (UUID: MIG-aaaa)\n";
        Refused(mig, 3);
    }

    [Fact]
    public void Two_7g_instances_on_one_gpu_are_refused_because_a_gpu_has_7_compute_slices()
    {
        var e = Refused($"{Gpu0}\n  MIG 7g.80gb     Device  0: (UUID: MIG-aaaa)\n  MIG 7g.80gb     Device  1: (UUID: MIG-bbbb)\n", 3);
        Assert.Contains("14 compute slices", e.Message);
        // 4g + 3g fills a GPU exactly, and the count starts again on the next GPU.
        var ok = NvidiaSmiParser.ParseList(
            $"{Gpu0}\n  MIG 4g.40gb     Device  0: (UUID: MIG-aaaa)\n  MIG 3g.40gb     Device  1: (UUID: MIG-bbbb)\n" +
            $"{Gpu1}\n  MIG 7g.80gb     Device  0: (UUID: MIG-cccc)\n");
        Assert.Equal(2, ok.Count);
    }

    [Fact]
    public void A_query_with_a_duplicate_or_huge_index_is_refused()
    {
        var fields = GpuInventory.QueryFields;
        var dup = Assert.Throws<Ds01Exception>(() => NvidiaSmiParser.ParseQuery(
            "0, GPU-1, A100, 81920, 0, Disabled\n0, GPU-2, A100, 81920, 0, Disabled\n", fields));
        Assert.Equal((Ds01ErrorKind.InvalidData, "NvidiaSmiOutputInconsistent"), (dup.Kind, dup.ErrorId));
        var huge = Assert.Throws<Ds01Exception>(() => NvidiaSmiParser.ParseQuery(
            "99999999999999999999, GPU-1, A100, 81920, 0, Disabled\n", fields));
        Assert.Equal(Ds01ErrorKind.InvalidData, huge.Kind);
    }
}

using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>Labels are text anyone can set on an image or a container; reading them never throws.</summary>
public class LabelInputTests
{
    [Theory]
    [InlineData("NaN", 15)]
    [InlineData("Infinity", 15)]
    [InlineData("-5", 15)]
    [InlineData("garbage", 15)]
    [InlineData("1e12", 525600)]
    [InlineData("30", 30)]
    public void The_hold_label_reads_as_a_sane_number(string text, double expected) =>
        Assert.Equal(expected, Labels.HoldMinutes(new Dictionary<string, string> { [Labels.GpuHoldMinutes] = text }));

    [Theory]
    [InlineData("NaN")]
    [InlineData("1e12")]
    [InlineData("-1e308")]
    public void A_stopped_container_with_a_broken_hold_label_maps_without_throwing(string hold)
    {
        var stopped = DateTimeOffset.UtcNow.AddMinutes(-2);
        var c = new ContainerInspectResponse
        {
            ID = "abc", Name = "/x._.1001",
            State = new() { Status = "exited", FinishedAt = stopped.ToString("o") },
            Config = new() { Labels = new Dictionary<string, string> { [Labels.GpuSlots] = "0", [Labels.GpuHoldMinutes] = hold, [Labels.Aime] = "alice" } },
        };
        var mapped = ContainerMapper.FromInspect(c, DateTimeOffset.UtcNow);
        Assert.True(mapped.GpuHoldExpiresAt > stopped);
    }

    [Fact]
    public void Holdings_are_keyed_by_gpu_uuid_not_by_the_index_in_the_label()
    {
        var slots = new[]
        {
            new Ds01GpuSlot { Slot = "0", Index = 0, Uuid = "GPU-aaaa", Model = "m" },
            new Ds01GpuSlot { Slot = "1", Index = 1, Uuid = "GPU-bbbb", Model = "m" },
        };
        // Created when GPU-bbbb was index 0; the GPUs were re-enumerated since.
        Assert.Equal(["1"], GpuHoldingReader.HeldSlots("0", "GPU-bbbb", slots));
        // A GPU that left the machine holds nothing here (its id matches no slot).
        Assert.Equal(["GPU-gone"], GpuHoldingReader.HeldSlots("1", "GPU-gone", slots));
        // The original DS01 wrote only slot ids: those still count.
        Assert.Equal(["0", "1"], GpuHoldingReader.HeldSlots("0, 1:0".Replace("1:0", "1"), null, slots));
    }
}

using Docker.DotNet.Models;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

/// <summary>How chosen slots reach a container in attach: nvidia mode (the create parameters Docker receives).</summary>
public class GpuAttachTests
{
    private static (GpuService Service, CreateContainerParameters Params, TempConfig Cfg) Setup(string attach)
    {
        var cfg = new TempConfig("defaults: { gpu_hold_after_stop_minutes: 20 }\n");
        cfg.Write("gpu-config.yaml", $"attach: {attach}\ngpus: []\n");
        var session = new Ds01Session(new Ds01Paths(cfg.ConfigDir, cfg.StateDir, cfg.LogDir), new OsIdentitySource());
        var p = new CreateContainerParameters
        {
            Labels = new Dictionary<string, string> { [Labels.User] = session.Caller.Name },
            Env = new List<string>(),
            HostConfig = new HostConfig(),
        };
        return (new GpuService(session, null!), p, cfg);
    }

    [Fact]
    public void One_slot_becomes_a_device_request_for_its_uuid_with_cuda_visible_devices()
    {
        var (gpu, p, cfg) = Setup("nvidia");
        using (cfg)
        {
            gpu.Apply(new GpuAssignment(new[] { "2.1" }, new[] { "MIG-abc" }, 2.0 / 7, 20), p);
            var request = Assert.Single(p.HostConfig!.DeviceRequests);
            Assert.Equal("nvidia", request.Driver);
            Assert.Equal(new[] { "MIG-abc" }, request.DeviceIDs);
            Assert.Equal("gpu", Assert.Single(Assert.Single(request.Capabilities)));
            Assert.Contains("CUDA_VISIBLE_DEVICES=MIG-abc", p.Env);
            Assert.Equal("2.1", p.Labels[Labels.GpuSlots]);
            Assert.Equal("0.2857", p.Labels[Labels.GpuWeight]);
            Assert.Equal("20", p.Labels[Labels.GpuHoldMinutes]);
            Assert.Null(p.HostConfig.Runtime);
        }
    }

    [Fact]
    public void Several_mig_slots_use_the_nvidia_runtime_and_NVIDIA_VISIBLE_DEVICES()
    {
        var (gpu, p, cfg) = Setup("nvidia");
        using (cfg)
        {
            gpu.Apply(new GpuAssignment(new[] { "3.0", "3.1" }, new[] { "MIG-a", "MIG-b" }, 2.0 / 7, 15), p);
            Assert.Equal("nvidia", p.HostConfig!.Runtime);
            Assert.True(p.HostConfig.DeviceRequests is null || p.HostConfig.DeviceRequests.Count == 0);
            Assert.Contains("NVIDIA_VISIBLE_DEVICES=MIG-a,MIG-b", p.Env);
            Assert.Equal("MIG-a,MIG-b", p.Labels[Labels.GpuUuids]);
        }
    }

    [Fact]
    public void A_retried_wait_attempt_carries_only_its_own_slots_never_the_previous_attempts()
    {
        // -Wait under ds01d applies each attempt's slots to the same parameters (GpuService.PlaceAsync).
        var (gpu, p, cfg) = Setup("nvidia");
        using (cfg)
        {
            gpu.Apply(new GpuAssignment(new[] { "1" }, new[] { "GPU-one" }, 1, 15), p);
            gpu.Apply(new GpuAssignment(new[] { "3.0", "3.1" }, new[] { "MIG-a", "MIG-b" }, 2.0 / 7, 15), p);
            Assert.Null(p.HostConfig!.DeviceRequests);
            Assert.Equal("nvidia", p.HostConfig.Runtime);
            Assert.Equal(new[] { "CUDA_VISIBLE_DEVICES=MIG-a,MIG-b", "NVIDIA_VISIBLE_DEVICES=MIG-a,MIG-b" }, p.Env);

            gpu.Apply(new GpuAssignment(new[] { "2" }, new[] { "GPU-two" }, 1, 15) { WaitUntil = DateTimeOffset.UnixEpoch, WaitCount = 1 }, p);
            Assert.Equal(new[] { "GPU-two" }, Assert.Single(p.HostConfig.DeviceRequests).DeviceIDs);
            Assert.Null(p.HostConfig.Runtime);
            Assert.Equal(new[] { "CUDA_VISIBLE_DEVICES=GPU-two", "NVIDIA_VISIBLE_DEVICES=GPU-two" }, p.Env);
            Assert.Equal(("1970-01-01T00:00:00Z", "1"), (p.Labels[Labels.GpuWaitUntil], p.Labels[Labels.GpuWaitCount]));
            Assert.False(p.Labels.ContainsKey(Labels.GpuWaitSlot));
        }
    }

    [Fact]
    public void Simulated_mode_records_labels_and_env_only()
    {
        var (gpu, p, cfg) = Setup("simulated");
        using (cfg)
        {
            gpu.Apply(new GpuAssignment(new[] { "0", "1" }, new[] { "GPU-a", "GPU-b" }, 2.0, 15), p);
            Assert.Null(p.HostConfig!.DeviceRequests);
            Assert.Null(p.HostConfig.Runtime);
            Assert.Equal("0,1", p.Labels[Labels.GpuSlots]);
            Assert.Contains("CUDA_VISIBLE_DEVICES=GPU-a,GPU-b", p.Env);
        }
    }
}

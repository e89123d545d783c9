using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Identity;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>The AIME-compatible create parameters, built from a spec without Docker.</summary>
public class CreateParametersConverterTests
{
    private static readonly UserIdentity Alice = new("alice.smith", 4242, 4343, "/home/alice.smith", new[] { "students" });

    private static CreateSpec Spec(string? data = "/data/set", Ds01ResourceLimit? limits = null) => new(
        "proj", "proj._.4242", "proj", "busybox:proj._.4242", "busybox:latest", Alice,
        limits ?? LimitResolver.Resolve(ResourceLimitsConfig.Parse("r.yaml",
            "defaults: { cpu_limit: 1.5, memory_limit: 2G, shm_size: 64M, pids_limit: 100 }\ngroups: { students: { members: [alice.smith] } }\n"), "alice.smith", new[] { "students" }),
        "/home/alice.smith/workspace/proj", data, "atomic", new Dictionary<string, long> { ["memlock"] = -1 },
        new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Limits_user_binds_and_both_label_schemas_are_fixed_at_create()
    {
        var p = CreateParametersConverter.Convert(Spec());
        Assert.Equal(("proj._.4242", "busybox:proj._.4242", "4242:4343", "/workspace"), (p.Name, p.Image, p.User, p.WorkingDir));
        Assert.True(p.Tty && p.OpenStdin);
        Assert.NotNull(p.HostConfig);
        Assert.Equal(new[] { "/home/alice.smith/workspace/proj:/workspace", "/data/set:/data" }, p.HostConfig.Binds);
        Assert.Equal((1_500_000_000L, 2L << 30, 2L << 30, 64L << 20, 100L),
            (p.HostConfig.NanoCPUs, p.HostConfig.Memory, p.HostConfig.MemorySwap, p.HostConfig.ShmSize, p.HostConfig.PidsLimit!.Value));
        Assert.False(p.HostConfig.Privileged);
        Assert.True(p.HostConfig.Init);
        Assert.Equal(("memlock", -1L, -1L), (p.HostConfig.Ulimits[0].Name, p.HostConfig.Ulimits[0].Soft, p.HostConfig.Ulimits[0].Hard));
        Assert.Equal("alice.smith", p.Labels[Labels.Aime]);
        Assert.Equal("alice-smith", p.Labels[Labels.Username]);
        Assert.Equal(("4242", "4343"), (p.Labels[Labels.UserId], p.Labels[Labels.GroupId]));
        Assert.Equal("students", p.Labels[Labels.Group]);
        Assert.Equal("busybox:latest", p.Labels[Labels.CustomImage]);
        Assert.Equal("2026-03-01T12:00:00Z", p.Labels[Labels.CreatedAt]);
        Assert.Equal("/data/set", p.Labels[Labels.DataMount]);
        Assert.Equal("0", p.Labels[Labels.AimeGpus]);
        Assert.Contains("DS01_CONTAINER=proj", p.Env);
    }

    [Fact]
    public void Without_a_data_path_there_is_one_bind_and_no_data_label()
    {
        var p = CreateParametersConverter.Convert(Spec(data: null));
        Assert.Single(p.HostConfig?.Binds ?? new List<string>());
        Assert.False(p.Labels.ContainsKey(Labels.DataMount));
        Assert.Equal("", p.Labels[Labels.AimeDataMount]);
    }

    [Fact]
    public void Fitting_to_the_host_caps_cpus_and_sets_a_slice_only_under_systemd()
    {
        var p = CreateParametersConverter.Convert(Spec());
        var notes = CreateParametersConverter.FitToHost(p, new SystemInfoResponse { NCPU = 1, CgroupDriver = "systemd" }, Spec().Limits, Alice);
        Assert.NotNull(p.HostConfig);
        Assert.Equal(1_000_000_000L, p.HostConfig.NanoCPUs);
        Assert.Equal("ds01-students-alice_smith.slice", p.HostConfig.CgroupParent);
        Assert.Equal(2, notes.Count);

        var q = CreateParametersConverter.Convert(Spec());
        CreateParametersConverter.FitToHost(q, new SystemInfoResponse { NCPU = 64, CgroupDriver = "cgroupfs" }, Spec().Limits, Alice);
        Assert.NotNull(q.HostConfig);
        Assert.Equal(1_500_000_000L, q.HostConfig.NanoCPUs);
        Assert.True(string.IsNullOrEmpty(q.HostConfig.CgroupParent));
        Assert.False(q.Labels.ContainsKey(Labels.Slice));
    }
}

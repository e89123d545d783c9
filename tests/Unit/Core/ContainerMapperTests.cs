using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>Docker's answers → Ds01Container: label precedence, owners, and exact times only.</summary>
public class ContainerMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Ds01_labels_win_over_AIMEs_and_the_image_shown_is_the_one_asked_for()
    {
        var c = ContainerMapper.FromList(new ContainerListResponse
        {
            ID = "abc", Names = new[] { "/proj._.1001" }, Image = "busybox:proj._.1001", State = "running", Status = "Up 5 minutes",
            Labels = new Dictionary<string, string>
            {
                [Labels.Aime] = "alice", [Labels.AimeUser] = "alice", [Labels.AimeName] = "aime-name", [Labels.Name] = "proj",
                [Labels.User] = "alice", [Labels.CustomImage] = "busybox:latest", [Labels.Managed] = "true",
                [Labels.GpuSlots] = "1.2", [Labels.Project] = "p1", [Labels.AimeFramework] = "Pytorch",
            },
        }, Now);
        Assert.Equal(("proj", "proj._.1001", 1001, "alice"), (c.Name, c.Tag, c.Uid, c.User));
        Assert.Equal("busybox:latest", c.Image);
        Assert.Equal(ContainerState.Running, c.State);
        Assert.Equal(Now.AddMinutes(-5), c.StartedAt);
        Assert.Equal(TimeSpan.FromMinutes(5), c.Uptime);
        Assert.Equal(("1.2", "p1", "Pytorch", true), (c.Gpu, c.Project, c.Framework, c.IsDs01Managed));
    }

    [Fact]
    public void An_AIME_container_is_read_from_its_aime_labels()
    {
        var c = ContainerMapper.FromList(new ContainerListResponse
        {
            ID = "x", Names = new[] { "/work._.bob" }, Image = "pytorch:2", State = "exited", Status = "Exited (0) 3 days ago",
            Labels = new Dictionary<string, string> { [Labels.Aime] = "bob", [Labels.AimeUser] = "bob", [Labels.AimeName] = "work" },
        }, Now);
        Assert.Equal(("work", "bob", "pytorch:2", false), (c.Name, c.User, c.Image, c.IsDs01Managed));
        Assert.Equal(ContainerState.Stopped, c.State);
        // "3 days ago" is not a time: a listed stop time is none rather than a guess.
        Assert.Null(c.StoppedAt);
        Assert.Null(c.GpuHoldExpiresAt);
    }

    [Fact]
    public void Inspect_gives_Dockers_exact_stop_time_and_the_hold_from_the_containers_own_label()
    {
        var c = ContainerMapper.FromInspect(new ContainerInspectResponse
        {
            ID = "y", Name = "/g._.1001", Created = Now.AddDays(-1).UtcDateTime,
            Config = new() { Image = "img", Labels = new Dictionary<string, string> { [Labels.User] = "alice", [Labels.GpuSlots] = "0", [Labels.GpuHoldMinutes] = "7.5" } },
            State = new State { Status = "exited", StartedAt = "2026-03-01T10:00:00.5Z", FinishedAt = "2026-03-01T11:00:00.1234567Z" },
        }, Now);
        var finished = new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero).AddTicks(1234567);
        Assert.Equal(finished, c.StoppedAt);
        Assert.Equal(finished.AddMinutes(7.5), c.GpuHoldExpiresAt);
        Assert.Null(c.StartedAt);
        Assert.Null(c.Uptime);
    }

    [Fact]
    public void Dockers_zero_time_means_never()
    {
        Assert.Null(ContainerMapper.ParseTime("0001-01-01T00:00:00Z"));
        Assert.Null(ContainerMapper.ParseTime(""));
        var created = ContainerMapper.FromInspect(new ContainerInspectResponse
        {
            ID = "z", Name = "/n._.5",
            Config = new() { Labels = new Dictionary<string, string>() },
            State = new State { Status = "created", StartedAt = "0001-01-01T00:00:00Z", FinishedAt = "0001-01-01T00:00:00Z" },
        }, Now);
        Assert.Equal(ContainerState.Created, created.State);
        Assert.Null(created.StoppedAt);
    }
}

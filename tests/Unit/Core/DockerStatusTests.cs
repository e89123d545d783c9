using Docker.DotNet.Models;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>Reading Docker's list Status text back, against dockerd's own rounding (go-units HumanDuration).</summary>
public class DockerStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0.4, "Less than a second")]
    [InlineData(1, "1 second")]
    [InlineData(59, "59 seconds")]
    [InlineData(119, "About a minute")]
    [InlineData(59 * 60 + 59, "59 minutes")]
    [InlineData(89 * 60, "About an hour")]
    [InlineData(90 * 60, "2 hours")]
    [InlineData(47 * 3600, "47 hours")]
    [InlineData(3 * 86400, "3 days")]
    public void Dockers_text_for_a_duration(double seconds, string text) =>
        Assert.Equal(text, InMemoryEngine.HumanDuration(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(30)]
    [InlineData(5 * 60 + 20)]
    [InlineData(61 * 60)]
    [InlineData(95 * 60)]
    [InlineData(149 * 60)]
    [InlineData(20 * 3600 + 29 * 60)]
    public void A_start_time_read_from_Up_text_is_off_by_no_more_than_Dockers_rounding(int secondsAgo)
    {
        var age = TimeSpan.FromSeconds(secondsAgo);
        var (started, stopped) = DockerStatus.Times("Up " + InMemoryEngine.HumanDuration(age), Now);
        Assert.Null(stopped);
        var error = (Now - age - started!.Value).Duration();
        // Seconds and minutes floor (under a minute off); hours round to the nearest (up to half an hour off).
        Assert.True(error <= (age >= TimeSpan.FromMinutes(60) ? TimeSpan.FromMinutes(30) : TimeSpan.FromMinutes(1)), $"{error} for {age}");
    }

    [Fact]
    public void Hours_round_to_the_nearest_so_a_stop_read_from_text_can_be_half_an_hour_early()
    {
        // Stopped 1 h 31 min ago: Docker says "2 hours ago", 29 minutes earlier than the truth.
        var (_, stopped) = DockerStatus.Times("Exited (0) 2 hours ago", Now);
        Assert.Equal(Now.AddHours(-2), stopped);
        Assert.Equal((null, null), DockerStatus.Times("Created", Now));
        Assert.Equal((null, null), DockerStatus.Times("Exited (0) sometime", Now));
        Assert.Equal(Now.AddHours(-1), DockerStatus.Times("Up About an hour (Paused)", Now).Started);
    }

    [Fact]
    public void The_hour_rounding_does_not_end_a_gpu_hold_early()
    {
        // Hold 120 min; stopped 91 min ago, which Docker shows as "2 hours ago".
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now);
        var engine = new InMemoryEngine(clock);
        var labels = new Dictionary<string, string>
        {
            [Labels.Aime] = "alice", [Labels.User] = "alice", [Labels.Managed] = "true", [Labels.GpuSlots] = "0", [Labels.GpuHoldMinutes] = "120",
        };
        engine.AddContainer("held._.4242", labels, state: "exited", finishedAt: Now.AddMinutes(-91));
        var listed = engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal("Exited (0) 2 hours ago", Assert.Single(listed).Status);

        var slots = GpuInventory.FromStatic(new[] { new GpuConfigGpu(0, "GPU-0", "Simulated", 81920, Array.Empty<GpuConfigMigInstance>()) });
        var holding = Assert.Single(new GpuHoldingReader(engine, clock).ReadAsync(slots, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(GpuHoldingState.Held, holding.Holding.State);
        Assert.Equal(Now.AddMinutes(29), holding.Holding.HoldExpiresAt);

        // Far past the hold, the list text alone decides: no inspect.
        clock.Advance(TimeSpan.FromHours(5));
        var calls = engine.Calls.Count;
        Assert.Empty(new GpuHoldingReader(engine, clock).ReadAsync(slots, CancellationToken.None).GetAwaiter().GetResult());
        Assert.DoesNotContain(engine.Calls.Skip(calls), c => c.StartsWith("Inspect", StringComparison.Ordinal));
    }

    [Fact]
    public void A_running_container_made_outside_Ds01_holds_the_gpus_of_its_device_request()
    {
        var engine = new InMemoryEngine();
        engine.AddContainer("foreign", new Dictionary<string, string>(), state: "running", host: new HostConfig
        {
            DeviceRequests = new List<DeviceRequest> { new() { Driver = "nvidia", DeviceIDs = new List<string> { "GPU-1" } } },
        });
        var slots = GpuInventory.FromStatic(new[]
        {
            new GpuConfigGpu(0, "GPU-0", "Simulated", 81920, Array.Empty<GpuConfigMigInstance>()),
            new GpuConfigGpu(1, "GPU-1", "Simulated", 81920, Array.Empty<GpuConfigMigInstance>()),
        });
        var h = Assert.Single(new GpuHoldingReader(engine, TimeProvider.System).ReadAsync(slots, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(new[] { "1" }, h.Holding.Slots);
        Assert.Equal("(docker)", h.Holding.User);
    }

    [Theory]
    [InlineData("created", ContainerState.Created)]
    [InlineData("running", ContainerState.Running)]
    [InlineData("restarting", ContainerState.Running)]
    [InlineData("paused", ContainerState.Paused)]
    [InlineData("exited", ContainerState.Stopped)]
    [InlineData("dead", ContainerState.Stopped)]
    public void Dockers_state_names(string docker, ContainerState state) => Assert.Equal(state, DockerStatus.State(docker));
}

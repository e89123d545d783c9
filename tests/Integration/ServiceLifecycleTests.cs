using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>`ds01d run` makes a socket anyone may connect to and goes away cleanly on SIGTERM; install writes units and slices, uninstall removes them.</summary>
// One dockerd for all integration tests: GPU holdings are daemon-wide, so these run in series with the engine tests.
[Collection("engine")]
public class ServiceLifecycleTests : IClassFixture<ServiceTestBed>
{
    private readonly ServiceTestBed _bed;

    public ServiceLifecycleTests(ServiceTestBed bed) => _bed = bed;

    [Fact]
    public void Run_creates_a_world_connectable_socket_and_stops_cleanly_on_sigterm()
    {
        var socket = Path.Combine(_bed.Root, "second.sock");
        var service = _bed.StartService(socket, out var log);
        Assert.Equal((UnixFileMode)0b110_110_110, File.GetUnixFileMode(socket));
        Assert.Equal(0, ServiceTestBed.Stop(service));
        Assert.False(File.Exists(socket), "the socket is removed on stop");
        Assert.Contains("listening on " + socket, log.ToString());
    }

    [Fact]
    public void Install_writes_the_unit_and_one_slice_per_group_with_its_aggregate_and_uninstall_removes_them()
    {
        var root = Path.Combine(_bed.Root, "install-root");
        Directory.CreateDirectory(Path.Combine(root, "etc", "ds01"));
        File.Copy(Path.Combine(_bed.ConfigDir, "resource-limits.yaml"), Path.Combine(root, "etc", "ds01", "resource-limits.yaml"));
        var install = ServiceTestBed.RunRoot("dotnet", ServiceTestBed.ServiceDll, "install", "--root", root, "--no-systemctl", "--exec", "/usr/local/bin/ds01d");
        Assert.True(install.Code == 0, install.All);
        var units = Path.Combine(root, "etc", "systemd", "system");
        var unit = File.ReadAllText(Path.Combine(units, "ds01d.service"));
        Assert.Contains("ExecStart=/usr/local/bin/ds01d run --socket /run/ds01/docker.sock --docker unix:///var/run/docker.sock --config /etc/ds01", unit);
        Assert.Contains("RuntimeDirectory=ds01", unit);
        var slice = File.ReadAllText(Path.Combine(units, "ds01-students.slice"));
        Assert.Contains("CPUQuota=3200%", slice);
        Assert.Contains($"MemoryMax={256L << 30}", slice);
        Assert.True(File.Exists(Path.Combine(units, "ds01.slice")));
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(Path.Combine(root, "var", "log", "ds01", "events.jsonl")));

        var uninstall = ServiceTestBed.RunRoot("dotnet", ServiceTestBed.ServiceDll, "uninstall", "--root", root, "--no-systemctl");
        Assert.True(uninstall.Code == 0, uninstall.All);
        Assert.Empty(Directory.GetFiles(units));
        Assert.True(File.Exists(Path.Combine(root, "etc", "ds01", "resource-limits.yaml")), "config is kept");
    }
}

using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>The optional loopback listener: /metrics for Prometheus, and the status page as headless Chromium renders it.</summary>
// One dockerd for all integration tests: GPU holdings are daemon-wide, so these run in series with the engine tests.
[Collection("engine")]
public class ServiceStatusTests : IClassFixture<ServiceTestBed>
{
    private readonly ServiceTestBed _bed;

    public ServiceStatusTests(ServiceTestBed bed) => _bed = bed;

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public void The_status_page_shows_gpus_and_running_containers_and_metrics_count_requests()
    {
        var name = _bed.Name("status");
        var tag = ServiceTestBed.Tag(name, _bed.Alice);
        var run = _bed.Docker(_bed.Alice, "run", "-d", "--name", tag, "--label", "aime.mlc=" + _bed.Alice.Name, "--cpus", "1", "--memory", "128m",
            "--pids-limit", "100", ServiceTestBed.Busybox, "sleep", "600");
        Assert.True(run.Code == 0, run.All);
        Assert.NotEqual(0, _bed.Docker(_bed.Alice, "run", "--privileged", "--name", ServiceTestBed.Tag(_bed.Name("st2"), _bed.Alice), ServiceTestBed.Busybox).Code);

        var port = FreePort();
        var socket = Path.Combine(_bed.Root, "status.sock");
        var service = _bed.StartService(socket, out _, "--status-listen", $"127.0.0.1:{port}");
        try
        {
            // Requests through this instance, so its counters have something to count.
            Assert.Equal(0, _bed.As(_bed.Alice, "docker", new[] { "-H", "unix://" + socket, "ps" }).Code);
            _bed.As(_bed.Alice, "docker", new[] { "-H", "unix://" + socket, "volume", "ls" });

            var page = ServiceTestBed.RunRoot("timeout", "90", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", $"http://127.0.0.1:{port}/");
            Assert.True(page.Code == 0, page.All);
            Assert.Matches(@"GPUs: [0-3]/3 allocated", page.Out);
            Assert.Contains("Simulated H100 80GB", page.Out);
            Assert.Contains($"<td>{name}</td><td>{_bed.Alice.Name}</td>", page.Out);
            Assert.Contains("Pending requests", page.Out);

            using var http = new HttpClient();
            var metrics = http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
            Assert.Matches(@"ds01d_requests_total\{verdict=""relayed"",family=""containers""\} [1-9]", metrics);
            Assert.Contains("ds01d_refusals_total{error_id=\"EndpointNotAllowed\"} 1", metrics);
            Assert.Matches(@"ds01_containers\{state=""running""\} [1-9]", metrics);
            Assert.Contains("ds01_gpu_slots{state=\"free\"}", metrics);
        }
        finally
        {
            ServiceTestBed.Stop(service);
            _bed.Docker(_bed.Alice, "rm", "-f", tag);
        }
    }

    [Fact]
    public void The_status_listener_refuses_an_address_that_is_not_loopback()
    {
        var r = ServiceTestBed.RunRoot("dotnet", ServiceTestBed.ServiceDll, "run", "--socket", Path.Combine(_bed.Root, "x.sock"), "--docker", _bed.DockerHost,
            "--config", _bed.ConfigDir, "--state", _bed.StateDir, "--log", _bed.LogDir, "--status-listen", "0.0.0.0:18080");
        Assert.NotEqual(0, r.Code);
        Assert.Contains("not a loopback address", r.All);
    }
}

using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>The cold-start list path (plain GETs over the socket) reads what Docker.DotNet reads, from the real dockerd.</summary>
[Collection("engine")]
public class SocketListEngineTests
{
    [Fact]
    public void List_and_inspect_over_the_socket_match_DockerEngine()
    {
        using var bed = new DockerTestBed();
        var env = bed.Env;
        var saved = env.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        foreach (var (k, v) in env) Environment.SetEnvironmentVariable(k, v);
        try
        {
            var uid = bed.Uid.ToString();
            var user = Environment.UserName;
            var gpu = bed.Tag("sockgpu");
            var plain = bed.Tag("sockplain");
            foreach (var (tag, extra) in new[] { (gpu, new[] { "--label", $"{Labels.GpuSlots}=0", "--label", "ds01.name=quote\"and\\slash" }), (plain, Array.Empty<string>()) })
            {
                var r = DockerTestBed.DockerCli(["create", "--name", tag, "--label", $"{Labels.Aime}={user}", "--label", $"{Labels.User}={user}",
                    "--label", $"{Labels.UserId}={uid}", .. extra, DockerTestBed.BusyboxImage, "sleep", "3600"]);
                Assert.True(r.Code == 0, r.Err);
            }
            Assert.Equal(0, DockerTestBed.DockerCli("start", plain, gpu).Code);
            Assert.Equal(0, DockerTestBed.DockerCli("stop", "-t", "0", gpu).Code);

            using var quick = SocketListEngine.TryCreate();
            Assert.NotNull(quick);
            var filter = new Dictionary<string, bool> { [Labels.Aime] = true };
            var viaSocket = quick!.ListContainersAsync(filter, CancellationToken.None).GetAwaiter().GetResult();
            var viaDocker = bed.Engine.ListContainersAsync(filter, CancellationToken.None).GetAwaiter().GetResult();
            string Row(Docker.DotNet.Models.ContainerListResponse c) =>
                $"{c.ID}|{string.Join(",", c.Names)}|{c.Image}|{c.State}|{c.Created:O}|{string.Join(",", c.Labels.OrderBy(l => l.Key).Select(l => l.Key + "=" + l.Value))}";
            Assert.Equal(viaDocker.Select(Row).OrderBy(s => s), viaSocket.Select(Row).OrderBy(s => s));
            Assert.Contains(viaSocket, c => c.Names.Contains("/" + gpu));

            // Through ContainerService (stopped GPU containers are inspected): the same Ds01Container values.
            var session = Ds01Session.FromEnvironment();
            var a = new ContainerService(session, quick).ListAllAsync(CancellationToken.None).GetAwaiter().GetResult();
            var b = new ContainerService(session, bed.Engine).ListAllAsync(CancellationToken.None).GetAwaiter().GetResult();
            string C(Ds01Container c) => $"{c.Tag}|{c.Name}|{c.State}|{c.Gpu}|{c.StoppedAt:O}|{c.GpuHoldExpiresAt:O}|{c.CreatedAt:O}|{c.Image}|{c.User}|{c.Uid}";
            Assert.Equal(b.Select(C).OrderBy(s => s), a.Select(C).OrderBy(s => s));
            Assert.NotNull(a.Single(c => c.Tag == gpu).StoppedAt);

            Assert.Null(quick.InspectContainerAsync("no-such-" + bed.RunId, CancellationToken.None).GetAwaiter().GetResult());
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }

    [Fact]
    public void A_socket_nobody_listens_on_is_DockerUnreachable_as_with_DockerEngine()
    {
        var saved = Environment.GetEnvironmentVariable("DOCKER_HOST");
        var path = Path.Combine(Path.GetTempPath(), "ds01-nosock-" + Guid.NewGuid().ToString("N")[..8]);
        Environment.SetEnvironmentVariable("DOCKER_HOST", "unix://" + path);
        try
        {
            using var quick = SocketListEngine.TryCreate()!;
            var e = Assert.Throws<Ds01Exception>(() => quick.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult());
            Assert.Equal(("DockerUnreachable", Ds01ErrorKind.ConnectionError), (e.ErrorId, e.Kind));
            Assert.Contains(path, e.Message);
        }
        finally { Environment.SetEnvironmentVariable("DOCKER_HOST", saved); }
    }
}

using System.Diagnostics;
using Docker.DotNet.Models;
using Ds01.Core.Docker;

// Docker's own API through ds01d against dockerd directly, on the same daemon, as the same non-admin user:
// listing N containers (one list call, as Get-Ds01Container makes) and create + remove of one container (the
// service admits each create: tag, labels, limits, mounts, the allocation lock).
// Run it as an ordinary account that may reach both sockets, with ds01d running in front of dockerd:
//   setpriv --reuid=U --regid=G --init-groups -- dotnet bench/Service/bin/Release/net10.0/Ds01.Bench.Service.dll \
//       unix:///path/dockerd.sock unix:///path/ds01d.sock [containers=200] [runs=15] [json-out]
// With json-out it also writes both comparisons there for bench/run-all.sh (bench/Operations renders them).
if (args.Length < 2) { Console.Error.WriteLine("usage: Ds01.Bench.Service DIRECT_ENDPOINT SERVICE_ENDPOINT [containers] [runs]"); return 2; }
var count = args.Length > 2 ? int.Parse(args[2]) : 200;
var runs = args.Length > 3 ? int.Parse(args[3]) : 15;
using var direct = new DockerEngine(args[0]);
using var service = new DockerEngine(args[1]);
var uid = new Ds01.Core.Identity.OsIdentitySource().Current();
const string image = "ds01-test/busybox:latest";
var run = Guid.NewGuid().ToString("N")[..6];

CreateContainerParameters Params(string tag) => new()
{
    Name = tag, Image = image, User = $"{uid.Uid}:{uid.Gid}",
    Labels = new Dictionary<string, string> { ["aime.mlc"] = uid.Name, ["ds01.user"] = uid.Name, ["ds01.managed"] = "true" },
    HostConfig = new HostConfig { NanoCPUs = 1_000_000_000, Memory = 128 << 20, PidsLimit = 100 },
};

Console.WriteLine($"creating {count} containers through {args[1]} as {uid} ...");
var tags = Enumerable.Range(0, count).Select(i => $"bench{run}{i:D3}._.{uid.Uid}").ToList();
foreach (var chunk in tags.Chunk(8))
    await Task.WhenAll(chunk.Select(t => service.CreateContainerAsync(Params(t), CancellationToken.None)));
try
{
    var filter = new Dictionary<string, bool> { ["aime.mlc"] = true };
    async Task<double> Time(Func<Task> op)
    {
        var sw = Stopwatch.StartNew();
        await op();
        return sw.Elapsed.TotalMilliseconds;
    }
    static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }
    // Warm both paths (connections, JIT) before measuring.
    for (var i = 0; i < 3; i++) { await direct.ListContainersAsync(filter, default); await service.ListContainersAsync(filter, default); }
    var listDirect = new List<double>();
    var listService = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        listDirect.Add(await Time(() => direct.ListContainersAsync(filter, default)));
        listService.Add(await Time(() => service.ListContainersAsync(filter, default)));
    }
    var createDirect = new List<double>();
    var createService = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        foreach (var (engine, sink, via) in new[] { (direct, createDirect, "d"), (service, createService, "s") })
        {
            var tag = $"benchc{run}{via}{i:D2}._.{uid.Uid}";
            sink.Add(await Time(async () =>
            {
                var id = await engine.CreateContainerAsync(Params(tag), default);
                await engine.RemoveContainerAsync(id, force: true, default);
            }));
        }
    }
    var listed = (await service.ListContainersAsync(filter, default)).Count;
    Console.WriteLine($"list {listed} containers, median of {runs}: direct {Median(listDirect):0.0} ms, through ds01d {Median(listService):0.0} ms, ratio {Median(listService) / Median(listDirect):0.00}x");
    Console.WriteLine($"create + remove, median of {runs}: direct {Median(createDirect):0.0} ms, through ds01d {Median(createService):0.0} ms, ratio {Median(createService) / Median(createDirect):0.00}x");
    if (listed < count) throw new InvalidOperationException($"ds01d listed {listed} of the {count} containers made");
    if (args.Length > 4)
        File.WriteAllText(args[4], System.Text.Json.JsonSerializer.Serialize(new object[]
        {
            new { Id = "service-list", What = $"list {count} containers through ds01d, as a non-admin (Docker API)", Ds01Ms = Median(listService),
                  Baseline = "dockerd directly", BaselineMs = Median(listDirect), Runs = runs, Note = "same client, same daemon" },
            new { Id = "service-create", What = "create + remove one container through ds01d, as a non-admin (Docker API)", Ds01Ms = Median(createService),
                  Baseline = "dockerd directly", BaselineMs = Median(createDirect), Runs = runs, Note = "ds01d admits the create under its allocation lock" },
        }));
}
finally
{
    foreach (var chunk in tags.Chunk(8))
        await Task.WhenAll(chunk.Select(t => direct.RemoveContainerAsync(t, force: true, CancellationToken.None)));
}
return 0;

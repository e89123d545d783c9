using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Core.Images;

// Fast-path vs legacy-path container create on the same base image, against the dockerd in DOCKER_HOST.
//   dotnet run -c Release --project bench/Ds01.Bench -- [runs] [base image]
// Fast: ContainerCreation.RunAsync from ds01-{uid}/bench:latest (built FROM the base with the user baked in).
// Legacy: ContainerCreation.RunAsync from the plain base (temporary container + user setup + commit + create).
// Each run is timed around RunAsync only; the container (and legacy commit) is removed between runs.
var runs = args.Length > 0 ? int.Parse(args[0]) : 15;
var baseImage = args.Length > 1 ? args[1] : "ds01-test/busybox:latest";

var root = Path.Combine(Path.GetTempPath(), "ds01-bench-" + Guid.NewGuid().ToString("N")[..8]);
var paths = new Ds01Paths(Path.Combine(root, "etc"), Path.Combine(root, "state"), Path.Combine(root, "log"));
foreach (var d in new[] { paths.ConfigDir, paths.StateDir, paths.LogDir }) Directory.CreateDirectory(d);
// The sandbox cannot raise memlock (see tests/Integration/DockerTestBed.cs); production keeps -1.
File.WriteAllText(paths.ResourceLimitsFile, $"""
    defaults:
      max_containers: 1000
    workspace_root: "{root}/ws/{"{project}"}"
    dockerfiles_root: "{root}/dockerfiles"
    allowed_mount_roots: ["{root}"]
    ulimits:
      memlock: 8388608
    """);

var session = new Ds01Session(paths, new OsIdentitySource());
using var engine = new DockerEngine();
var owner = session.Caller;
var images = new ImageService(session, engine);
var containers = new ContainerService(session, engine);
var creation = new ContainerCreation(session, engine, new GpuService(session, engine));
var ct = CancellationToken.None;

var project = "bench-" + Guid.NewGuid().ToString("N")[..6];
var dockerfile = images.GenerateDockerfile(new DockerfileRequest { Project = project, BaseImage = baseImage }, owner);
var built = await images.BuildAsync(project, dockerfile, owner, noCache: false, force: true, new Progress<BuildMessage>(_ => { }), ct);
Console.WriteLine($"dockerd {engine.Endpoint}, base {baseImage}, fast image {built.Name}, {runs} runs each");

async Task<double> Once(string name, string image)
{
    var sw = Stopwatch.StartNew();
    await creation.RunAsync(new ContainerCreateRequest { Name = name, Image = image, Project = project, GpuCount = 0 }, owner, ct);
    var ms = sw.Elapsed.TotalMilliseconds;
    await containers.RemoveAsync(name, owner, stopFirst: true, ct);
    return ms;
}

static double Median(List<double> xs)
{
    var s = xs.Order().ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
}

// One warm-up of each, not counted: the first create pays for cold caches in dockerd.
await Once("bench-warm-f", built.Name);
await Once("bench-warm-l", baseImage);
var fast = new List<double>();
var legacy = new List<double>();
for (var i = 0; i < runs; i++)
{
    // Interleaved, so drift in the daemon affects both paths alike.
    fast.Add(await Once($"bench-f{i}", built.Name));
    legacy.Add(await Once($"bench-l{i}", baseImage));
}
await images.RemoveAsync(built.Name, owner, ct);
try { Directory.Delete(root, recursive: true); } catch (IOException) { }

Console.WriteLine($"| path   | median ms | min ms | max ms |");
Console.WriteLine($"|--------|----------:|-------:|-------:|");
Console.WriteLine($"| fast   | {Median(fast),9:0.0} | {fast.Min(),6:0.0} | {fast.Max(),6:0.0} |");
Console.WriteLine($"| legacy | {Median(legacy),9:0.0} | {legacy.Min(),6:0.0} | {legacy.Max(),6:0.0} |");
Console.WriteLine($"legacy/fast median ratio: {Median(legacy) / Median(fast):0.0}x");

using System.Diagnostics;
using System.Management.Automation.Runspaces;
using Docker.DotNet.Models;
using Ds01.Core.Docker;

// Listing N containers: Get-Ds01Container (one list call, objects) vs the docker CLI's
// `docker ps -a --filter label=aime.mlc --format json` (text) on the same daemon (DOCKER_HOST).
// Usage: dotnet run -c Release --project bench/Listing -- [containers=200] [runs=15]
var count = args.Length > 0 ? int.Parse(args[0]) : 200;
var runs = args.Length > 1 ? int.Parse(args[1]) : 15;
var root = FindRoot();
using var engine = new DockerEngine();
const string image = "ds01-test/busybox:latest";
var tags = Enumerable.Range(0, count).Select(i => $"bench{i:D3}._.{60000 + i % 20}").ToList();

Console.WriteLine($"creating {count} containers (created state) on {engine.Endpoint} ...");
foreach (var chunk in tags.Chunk(16))
    await Task.WhenAll(chunk.Select(tag => engine.CreateContainerAsync(new CreateContainerParameters
    {
        Name = tag, Image = image,
        Labels = new Dictionary<string, string> { ["aime.mlc"] = $"u{tag[^2..]}", ["aime.mlc.USER"] = $"u{tag[^2..]}", ["ds01.managed"] = "true", ["ds01.user"] = $"u{tag[^2..]}", ["ds01.name"] = tag.Split("._.")[0] },
    }, CancellationToken.None)));
try
{
    var iss = InitialSessionState.CreateDefault2();
    iss.ImportPSModule(new[] { Path.Combine(root, "out", "Ds01", "Ds01.psd1") });
    using var rs = RunspaceFactory.CreateRunspace(iss);
    rs.Open();
    int listed = 0;
    double InProcess()
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = rs;
        ps.AddCommand("Get-Ds01Container").AddParameter("AllUsers");
        var sw = Stopwatch.StartNew();
        listed = ps.Invoke().Count;
        return sw.Elapsed.TotalMilliseconds;
    }
    double Process(string file, params string[] a)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var x in a) psi.ArgumentList.Add(x);
        var sw = Stopwatch.StartNew();
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} exited {p.ExitCode}");
        return sw.Elapsed.TotalMilliseconds;
    }
    var cli = Path.Combine(root, "src", "Ds01.Cli", "bin", "Release", "net10.0", "ds01.dll");
    var cases = new (string Name, Func<double> Run)[]
    {
        ("Get-Ds01Container -AllUsers (module loaded, in pwsh)", InProcess),
        ("docker ps -a --filter label=aime.mlc --format json", () => Process("docker", "ps", "-a", "--filter", "label=aime.mlc", "--format", "{{json .}}")),
        ("ds01 -c 'Get-Ds01Container -AllUsers' (cold process)", () => Process("dotnet", cli, "-c", "Get-Ds01Container -AllUsers")),
    };
    foreach (var c in cases) c.Run(); // warm-up
    var results = cases.ToDictionary(c => c.Name, _ => new List<double>());
    for (var i = 0; i < runs; i++)
        foreach (var c in cases) results[c.Name].Add(c.Run());
    Console.WriteLine($"Get-Ds01Container returned {listed} objects");
    Console.WriteLine($"| what | median ms | min ms | max ms |");
    Console.WriteLine($"|---|---:|---:|---:|");
    foreach (var (name, list) in results)
    {
        list.Sort();
        Console.WriteLine($"| {name} | {list[list.Count / 2]:0.0} | {list[0]:0.0} | {list[^1]:0.0} |");
    }
    var ratio = results[cases[0].Name][runs / 2] / results[cases[1].Name][runs / 2];
    Console.WriteLine($"Get-Ds01Container / docker ps (median): {ratio:0.00}x");
}
finally
{
    foreach (var chunk in tags.Chunk(16))
        await Task.WhenAll(chunk.Select(tag => engine.RemoveContainerAsync(tag, true, CancellationToken.None)));
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ds01.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("Ds01.sln not found");
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// bench/run-all.sh --smoke end to end (its own dockerd, ds01d, a temporary account, one iteration of everything),
/// so the benchmark suite cannot rot. Speed is not asserted: only that every measurement ran and was reported, that
/// --update-readme rewrites exactly the table between the markers (of a copy here), and that README.md stays as it is.
/// </summary>
[Collection(Name)]
public class BenchSmokeTests
{
    public const string Name = "bench smoke (alone)";

    [DllImport("libc")] private static extern uint geteuid();

    private static readonly string[] Operations =
        { "list", "cold-list", "import", "create", "decision-0", "decision-5", "service-list", "service-create" };

    [Fact]
    public async Task RunAllSmokeReportsEveryMeasurement()
    {
        Assert.True(geteuid() == 0, "bench/run-all.sh starts its own dockerd and makes a temporary account: run the integration tests as root (CI does).");
        var readme = Path.Combine(RepoPaths.Root, "README.md");
        var readmeBefore = File.ReadAllText(readme);
        var outDir = Path.Combine(Path.GetTempPath(), "ds01-bench-smoke-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(outDir);
        var copy = Path.Combine(outDir, "README.copy.md");
        const string before = "# Title\n\ntext before\n\n<!-- perf-table:begin -->\nold table\n<!-- perf-table:end -->\n\ntext after\n";
        File.WriteAllText(copy, before);
        try
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoPaths.Root };
            foreach (var a in new[] { Path.Combine(RepoPaths.Root, "bench", "run-all.sh"), "--smoke", "--no-build", "--out", outDir, "--update-readme", "--readme", copy }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEndAsync();
            // Generous: a smoke run takes about a minute on a loaded 2-core machine.
            using (var limit = new CancellationTokenSource(TimeSpan.FromMinutes(10)))
            {
                try { await p.WaitForExitAsync(limit.Token); }
                catch (OperationCanceledException) { p.Kill(entireProcessTree: true); Assert.Fail("bench/run-all.sh --smoke did not finish within 10 minutes"); }
            }
            var log = await stdout + await err;
            Assert.True(p.ExitCode == 0, $"bench/run-all.sh --smoke exited {p.ExitCode}:\n{Tail(log)}");

            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "latest.json")));
            var root = json.RootElement;
            Assert.Equal("smoke", root.GetProperty("machine").GetProperty("mode").GetString());
            Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("machine").GetProperty("dockerd").GetString()), "no dockerd version recorded");
            var ops = root.GetProperty("operations").EnumerateArray().ToDictionary(o => o.GetProperty("id").GetString()!);
            Assert.Equal(Operations.Order(), ops.Keys.Order());
            foreach (var (id, o) in ops)
            {
                Assert.True(o.GetProperty("ds01_ms").GetDouble() > 0, $"{id}: no Ds01 time");
                if (!id.StartsWith("decision-", StringComparison.Ordinal))
                    Assert.True(o.GetProperty("baseline_ms").GetDouble() > 0 && o.GetProperty("ratio").GetDouble() > 0, $"{id}: no comparison measured");
            }
            var inprocess = root.GetProperty("inprocess").EnumerateArray().ToList();
            Assert.Equal(11, inprocess.Count); // 4 limit resolutions, slot choice at 4 sizes, label parsing, 2 event reads
            Assert.All(inprocess, b => Assert.True(b.GetProperty("success").GetBoolean() && b.GetProperty("mean_ns").GetDouble() > 0,
                $"{b.GetProperty("class")}.{b.GetProperty("method")} did not run"));

            var md = File.ReadAllText(Path.Combine(outDir, "latest.md"));
            Assert.Contains("<!-- perf-table:begin -->", md);
            Assert.Contains("<!-- perf-table:end -->", md);
            Assert.Contains("Smoke run", md);
            Assert.Equal(readmeBefore, File.ReadAllText(readme));
            var rewritten = File.ReadAllText(copy);
            Assert.StartsWith("# Title\n\ntext before\n\n<!-- perf-table:begin -->\n", rewritten);
            Assert.EndsWith("<!-- perf-table:end -->\n\ntext after\n", rewritten);
            Assert.DoesNotContain("old table", rewritten);
            Assert.Contains("| `Get-Ds01Container` (module loaded), 5 containers |", rewritten);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    private static string Tail(string s) => s.Length <= 6000 ? s : s[^6000..];
}

/// <summary>
/// Runs after the parallel collections, alone: the smoke run's second dockerd, BenchmarkDotNet and cold pwsh
/// processes would otherwise load a 2-core machine under the other tests' generous but finite waits.
/// </summary>
[CollectionDefinition(BenchSmokeTests.Name, DisableParallelization = true)]
public class BenchSmokeCollection { }

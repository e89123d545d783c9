using System.Globalization;
using Ds01.Core.Status;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>Status, dashboard and metrics of a real engine with 4 simulated GPUs, 3 of them taken by idle containers.</summary>
[Collection("engine")]
public class StatusTests
{
    [Fact]
    public void Status_dashboard_and_metrics_agree_with_the_containers()
    {
        using var bed = new DockerTestBed(extraDefaults: "gpu_limit: 4\nidle_timeout_hours: 24", simulatedGpus: 4);
        var names = new[] { bed.Name("s1"), bed.Name("s2"), bed.Name("s3") };
        foreach (var n in names)
            Assert.Empty(bed.Run($"New-Ds01Container {n} -Image {DockerTestBed.BusyboxImage} -GpuCount 1; Start-Ds01Container {n}").Errors);
        // One maintenance pass samples them: an interactive shell doing nothing is idle.
        var sampled = bed.Run("Invoke-Ds01Maintenance -Task Idle");
        Assert.Empty(sampled.Errors);

        var listed = bed.Run($"Get-Ds01Container {names[0]}").Objects<Core.Containers.Ds01Container>().Single();
        Assert.NotNull(listed.IdleSince);
        Assert.Equal(listed.IdleSince!.Value.AddHours(24), listed.StopsAt);

        var r = bed.Run("Get-Ds01SystemStatus");
        Assert.Empty(r.Errors);
        var s = Assert.IsType<Ds01SystemStatus>(Assert.Single(r.Output).BaseObject);
        Assert.Equal((3.0, 4.0, 3, 4), (s.GpuEquivalentsAllocated, s.GpuEquivalentsTotal, s.SlotsInUse, s.SlotsTotal));
        var mine = s.Containers.Where(c => c.Tag.Contains(bed.RunId)).ToList();
        Assert.Equal(3, mine.Count);
        Assert.All(mine, c =>
        {
            Assert.True(c.Idle, c.Tag);
            Assert.Equal("Idle", c.StopReason);
            Assert.InRange((c.StopsAt!.Value - DateTimeOffset.UtcNow).TotalHours, 23, 24);
        });
        Assert.NotNull(s.LastMaintenanceRun);
        Assert.Equal(names.Order(), s.Slots.Where(x => x.Container is not null).Select(x => x.Container!).Order());

        var board = bed.Run("Show-Ds01Dashboard");
        Assert.Empty(board.Errors);
        var text = Assert.Single(board.Output).ToString();
        Assert.Contains("3/4 allocated", text);
        Assert.Contains("[available]", text);
        foreach (var n in names) Assert.Contains($"{Environment.UserName} ({n}) - n/a", text);
        Assert.Contains("Idle containers (3)", text);
        Assert.Contains("(cleanup in 23h)", text);

        var prom = Path.Combine(bed.Config.Root, "ds01.prom");
        Assert.Empty(bed.Run($"Export-Ds01Metric -Path '{prom}'").Errors);
        var m = Parse(File.ReadAllText(prom));
        Assert.Equal(3, m["ds01_gpu_slots{state=\"allocated\"}"]);
        Assert.Equal(1, m["ds01_gpu_slots{state=\"free\"}"]);
        Assert.Equal(3, m[$"ds01_user_gpu_equivalents{{user=\"{Environment.UserName}\",group=\"\"}}"]);
        Assert.True(m["ds01_containers{state=\"running\"}"] >= 3);
        Assert.True(m["ds01_containers_idle"] >= 3);
        Assert.InRange(m["ds01_maintenance_last_run_timestamp_seconds"], DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

        // -WhatIf writes nothing.
        var other = Path.Combine(bed.Config.Root, "other.prom");
        Assert.Empty(bed.Run($"Export-Ds01Metric -Path '{other}' -WhatIf").Errors);
        Assert.False(File.Exists(other));
    }

    [Fact]
    public void Ds01_dashboard_redraws_until_stopped()
    {
        using var bed = new DockerTestBed(simulatedGpus: 2);
        var p = Ds01Cli.Start(bed.Env, null, "dashboard", "--refresh=1");
        var seen = new System.Text.StringBuilder();
        var reader = Task.Run(() =>
        {
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null) lock (seen) seen.AppendLine(line);
        });
        var deadline = DateTime.UtcNow.AddSeconds(60);
        int Drawings() { lock (seen) return System.Text.RegularExpressions.Regex.Matches(seen.ToString(), "allocated").Count; }
        while (Drawings() < 2 && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(200);
        var exited = p.HasExited;
        if (!exited) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        Assert.False(exited, "ds01 dashboard ended by itself: " + p.StandardError.ReadToEnd());
        Assert.True(Drawings() >= 2, "two drawings a second apart: " + seen);
        Assert.Contains("Pending requests (0)", seen.ToString());
    }

    private static Dictionary<string, double> Parse(string text)
    {
        var d = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.LastIndexOf(' ');
            d[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return d;
    }
}

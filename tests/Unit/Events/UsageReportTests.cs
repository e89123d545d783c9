using System.Management.Automation;
using Ds01.Core.Events;
using Xunit;
using EventLog = Ds01.Core.Events.EventLog;

namespace Ds01.Tests.Unit.Events;

/// <summary>Usage from a log whose totals are worked out by hand below; through the real cmdlet and engine.</summary>
[Collection("engine")]
public sealed class UsageReportTests : IDisposable
{
    private readonly TempConfig _config = new("defaults:\n  gpu_limit: 2\ngroups:\n  phd:\n    members: [alice]\n  msc:\n    members: [bob]\n");
    private static readonly DateTimeOffset Day1 = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    private void W(string type, string user, DateTimeOffset at, Dictionary<string, object?> d) =>
        Assert.Null(new EventLog(_config.EventLogFile, "test").Write(type, user, d, at));

    private void WriteLog()
    {
        // alice: thesis on a full GPU (weight 1), started before the window (day 1 20:00), stopped day 2 02:00.
        W("container.create", "alice", Day1.AddHours(19), new() { ["container"] = "thesis._.1001", ["gpu"] = "0" });
        W("gpu.allocate", "alice", Day1.AddHours(19), new() { ["container"] = "thesis._.1001", ["slots"] = "0", ["weight"] = 1.0 });
        W("container.start", "alice", Day1.AddHours(20), new() { ["container"] = "thesis._.1001" });
        W("container.stop", "alice", Day1.AddHours(26), new() { ["container"] = "thesis._.1001" });
        // bob: nlp on two MIG 2g slices (2 x 2/7), day 2 08:00 to 11:30, stopped by the idle cleanup.
        W("container.create", "bob", Day1.AddHours(31), new() { ["container"] = "nlp._.1002", ["gpu"] = "1.0,1.1" });
        W("gpu.allocate", "bob", Day1.AddHours(31), new() { ["container"] = "nlp._.1002", ["slots"] = "1.0,1.1", ["weight"] = 0.5714 });
        W("container.start", "bob", Day1.AddHours(32), new() { ["container"] = "nlp._.1002" });
        W("cleanup.idle", "bob", Day1.AddHours(35.5), new() { ["container"] = "nlp._.1002", ["outcome"] = "stopped", ["by"] = "maintenance" });
        // bob: a CPU-only box started day 2 22:00 and still running at the end of the window (day 3 00:00).
        W("container.create", "bob", Day1.AddHours(45), new() { ["container"] = "cpu._.1002" });
        W("container.start", "bob", Day1.AddHours(46), new() { ["container"] = "cpu._.1002" });
        File.AppendAllText(_config.EventLogFile, "{broken\n");
    }

    private PsResult Report(string by) => PsEngine.Run($"Get-Ds01UsageReport -By {by} -Since '{Day1.AddHours(24):o}' -Until '{Day1.AddHours(48):o}'", _config.Env);

    [Fact]
    public void Per_user_totals_match_the_hand_computed_log()
    {
        WriteLog();
        var r = Report("User");
        Assert.Empty(r.Errors);
        Assert.Equal("Skipped 1 of 11 lines that are not valid events.", Assert.Single(r.Warnings));
        var rows = r.Objects<Ds01UsageSummary>().ToDictionary(x => x.Name);
        // alice: day 2 00:00-02:00 inside the window = 2 h on weight 1; created before the window.
        Assert.Equal((2.0, 2.0, 0, 0), (rows["alice"].GpuHours, rows["alice"].ContainerHours, rows["alice"].ContainersCreated, rows["alice"].StoppedByMaintenance));
        // bob: nlp 3.5 h x 0.5714 = 2.0 GPU-h; cpu 2 h x 0; container-hours 3.5 + 2 = 5.5; two created; one idle stop.
        Assert.Equal((2.0, 5.5, 2, 1), (Math.Round(rows["bob"].GpuHours, 2), rows["bob"].ContainerHours, rows["bob"].ContainersCreated, rows["bob"].StoppedByMaintenance));
    }

    [Fact]
    public void Per_group_gpu_and_day()
    {
        WriteLog();
        var groups = Report("Group").Objects<Ds01UsageSummary>().ToDictionary(x => x.Name);
        Assert.Equal(2.0, groups["phd"].GpuHours);
        Assert.Equal(5.5, groups["msc"].ContainerHours);
        var gpus = Report("Gpu").Objects<Ds01UsageSummary>().ToDictionary(x => x.Name);
        Assert.Equal(2.0, gpus["0"].GpuHours);
        Assert.Equal(1.0, Math.Round(gpus["1.0"].GpuHours, 2));       // each slice carries half of nlp's weight
        Assert.Equal(1.0, Math.Round(gpus["1.1"].GpuHours, 2));
        Assert.Equal(2.0, gpus["(none)"].ContainerHours);
        var all = PsEngine.Run($"Get-Ds01UsageReport Day -Since '{Day1:o}' -Until '{Day1.AddHours(48):o}'", _config.Env).Objects<Ds01UsageSummary>().ToDictionary(x => x.Name);
        // thesis 20:00-02:00 is cut at midnight: 4 h on day 1, 2 h on day 2.
        Assert.Equal(4.0, all["2026-11-02"].GpuHours);
        Assert.Equal(1, all["2026-11-02"].ContainersCreated);
        Assert.Equal(4.0, Math.Round(all["2026-11-03"].GpuHours, 2));
    }

    [Fact]
    public void Every_column_is_a_scalar_so_Export_Csv_gives_a_usable_sheet()
    {
        WriteLog();
        var r = PsEngine.Run($"Get-Ds01UsageReport -Since '{Day1.AddHours(24):o}' -Until '{Day1.AddHours(48):o}'", _config.Env);
        var first = r.Output.First();
        Assert.Equal(new[] { "By", "Name", "GpuHours", "ContainerHours", "ContainersCreated", "StoppedByMaintenance", "From", "To" },
            first.Properties.Select(p => p.Name));
        Assert.All(r.Output.SelectMany(o => o.Properties), p => Assert.True(FlatValue.IsScalar(p.Value), $"{p.Name} is {p.Value?.GetType()}"));
    }

    [Fact]
    public void Until_before_Since_is_an_argument_error()
    {
        var e = PsEngine.Run($"Get-Ds01UsageReport -Since '{Day1.AddDays(2):o}' -Until '{Day1:o}'", _config.Env).SingleError();
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.StartsWith("UntilBeforeSince", e.FullyQualifiedErrorId);
    }

    public void Dispose() => _config.Dispose();
}

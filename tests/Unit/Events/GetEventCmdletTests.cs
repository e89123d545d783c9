using Ds01.Core.Events;
using Xunit;
using EventLog = Ds01.Core.Events.EventLog;

namespace Ds01.Tests.Unit.Events;

[Collection("engine")]
public sealed class GetEventCmdletTests : IDisposable
{
    private readonly TempConfig _config = new("defaults:\n  gpu_limit: 1\n");
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);

    private void W(string type, string user, DateTimeOffset at, Dictionary<string, object?> d) =>
        Assert.Null(new EventLog(_config.EventLogFile, "test").Write(type, user, d, at));

    [Fact]
    public void Events_stream_as_flat_objects_that_export_to_csv()
    {
        W("container.create", "alice", T0, new() { ["container"] = "thesis._.1001", ["gpu"] = "0", ["image"] = "ds01-1001/thesis:latest" });
        W("cleanup.idle", "alice", T0.AddHours(1), new() { ["container"] = "thesis._.1001", ["outcome"] = "stopped", ["by"] = "maintenance" });
        var r = PsEngine.Run($"Get-Ds01Event -Since '{T0.AddMinutes(1):o}'", _config.Env);
        Assert.Empty(r.Errors);
        var row = Assert.Single(r.Output);
        Assert.Equal(new[] { "Timestamp", "Type", "User", "Actor", "Source", "Container", "Gpu", "Outcome", "SchemaVersion", "Details" },
            row.Properties.Select(p => p.Name));
        Assert.All(row.Properties, p => Assert.True(FlatValue.IsScalar(p.Value), $"{p.Name} is {p.Value?.GetType()}"));
        var e = (Ds01Event)row.BaseObject;
        Assert.Equal(("cleanup.idle", "alice", "maintenance", "thesis._.1001", "stopped"), (e.Type, e.User, e.Actor, e.Container, e.Outcome));
        Assert.Equal("{\"container\":\"thesis._.1001\",\"outcome\":\"stopped\",\"by\":\"maintenance\"}", e.Details);
        var typed = PsEngine.Run("Get-Ds01Event container.*", _config.Env).Objects<Ds01Event>().Single();
        Assert.Equal(T0, typed.Timestamp);
        Assert.Equal("0", typed.Gpu);
        var week = PsEngine.Run("Get-Ds01Event -Since ([datetime]::Now.AddDays(-7))", _config.Env);
        Assert.Empty(week.Errors);                       // a DateTime binds to -Since
        Assert.Empty(week.Output);                       // the log is from 2026-11-02
    }

    [Fact]
    public void A_non_admin_sees_only_their_own_events_and_may_not_ask_for_others()
    {
        W("container.create", "alice", T0, new() { ["container"] = "a._.1001" });
        W("container.create", "nobody", T0, new() { ["container"] = "n._.65534" });
        W("container.create", "bob", T0, new() { ["container"] = "b._.1002" });
        File.SetUnixFileMode(_config.EventLogFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        foreach (var d in new[] { _config.Root, _config.LogDir, _config.ConfigDir })
            File.SetUnixFileMode(d, (UnixFileMode)Convert.ToInt32("755", 8));
        var mine = Ds01Cli.RunWith(_config.Env, (65534, 65534), "--json", "-c", "Get-Ds01Event | ForEach-Object User");
        Assert.True(mine.ExitCode == 0, mine.Err);
        Assert.Equal("[\"nobody\"]", mine.Out.Replace("\n", "").Replace(" ", ""));
        var other = Ds01Cli.RunWith(_config.Env, (65534, 65534), "-c", "Get-Ds01Event -User alice");
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("id: NotAnAdmin", other.Err);
        Assert.Contains("category: PermissionDenied", other.Err);
        // root (an admin) sees all three.
        Assert.Equal(3, PsEngine.Run("Get-Ds01Event", _config.Env).Objects<Ds01Event>().Count());
    }

    [Fact]
    public void A_missing_log_given_by_path_is_an_error_and_the_default_missing_log_is_empty()
    {
        var e = PsEngine.Run($"Get-Ds01Event -Path '{_config.Root}/nope.jsonl'", _config.Env).SingleError();
        Assert.StartsWith("EventLogNotFound", e.FullyQualifiedErrorId);
        var r = PsEngine.Run("Get-Ds01Event", _config.Env);
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
    }

    public void Dispose() => _config.Dispose();
}

/// <summary>What Export-Csv writes as a readable cell: strings, numbers, booleans, times, enums (not collections or objects).</summary>
public static class FlatValue
{
    public static bool IsScalar(object? v) => v is null || v is string || v is bool || v is DateTimeOffset || v is DateTime || v is TimeSpan || v is Enum ||
        v.GetType().IsPrimitive || v is decimal;
}

using Ds01.Core.Events;
using Xunit;

namespace Ds01.Tests.Unit.Events;

public sealed class EventReaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ds01-evread-" + Guid.NewGuid().ToString("N")[..10]);
    private string File0 => Path.Combine(_dir, "events.jsonl");
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);

    public EventReaderTests() => Directory.CreateDirectory(_dir);

    private void Write(string file, string type, string user, DateTimeOffset at, Dictionary<string, object?>? d = null) =>
        Assert.Null(new EventLog(file, "test").Write(type, user, d ?? new Dictionary<string, object?>(), at));

    [Fact]
    public void Rotated_files_are_read_oldest_first_and_invalid_lines_are_counted_not_thrown()
    {
        Write(File0 + ".2", "container.create", "alice", T0, new() { ["container"] = "thesis._.1001", ["gpu"] = "0" });
        Write(File0 + ".1", "container.start", "alice", T0.AddDays(7), new() { ["container"] = "thesis._.1001", ["by"] = "root" });
        File.AppendAllText(File0 + ".1", "{\"timestamp\":\"2026-11-09T09:00:00Z\",\"event_ty\n"); // torn by a crash
        File.AppendAllText(File0 + ".1", "not json at all\n");
        Write(File0, "cleanup.idle", "alice", T0.AddDays(14), new() { ["container"] = "thesis._.1001", ["outcome"] = "stopped", ["by"] = "maintenance" });
        var stats = new EventReadStats();
        var events = EventReader.Read(EventReader.Files(File0), null, stats).ToList();
        Assert.Equal(new[] { "container.create", "container.start", "cleanup.idle" }, events.Select(e => e.Type));
        Assert.Equal(2, stats.Invalid);
        Assert.Equal(5, stats.Lines);
        var stop = events[2];
        Assert.Equal(T0.AddDays(14), stop.Timestamp);
        Assert.Equal("alice", stop.User);
        Assert.Equal("maintenance", stop.Actor);
        Assert.Equal("thesis._.1001", stop.Container);
        Assert.Equal("stopped", stop.Outcome);
        Assert.Equal("test", stop.Source);
        Assert.Equal("{\"container\":\"thesis._.1001\",\"outcome\":\"stopped\",\"by\":\"maintenance\"}", stop.Details);
        Assert.Equal("0", events[0].Gpu);
        Assert.Equal("root", events[1].Actor);
    }

    [Fact]
    public void Filters_by_time_user_type_wildcard_and_container_name()
    {
        Write(File0, "container.create", "alice", T0, new() { ["container"] = "thesis._.1001" });
        Write(File0, "gpu.allocate", "alice", T0.AddHours(1), new() { ["container"] = "thesis._.1001", ["slots"] = "1.2" });
        Write(File0, "container.create", "bob", T0.AddHours(2), new() { ["container"] = "nlp._.1002" });
        Write(File0, "cleanup.orphan", "bob", T0.AddHours(3), new() { ["container"] = "nlp._.1002", ["outcome"] = "removed" });
        List<Ds01Event> Q(EventFilter f) => EventReader.Read(EventReader.Files(File0), f, new EventReadStats()).ToList();
        Assert.Equal(2, Q(new EventFilter { Since = T0.AddHours(1), Until = T0.AddHours(2) }).Count);
        Assert.All(Q(new EventFilter { Users = new[] { "bob" } }), e => Assert.Equal("bob", e.User));
        Assert.Equal(new[] { "container.create", "container.create" }, Q(new EventFilter { Types = new[] { "CONTAINER.*" } }).Select(e => e.Type));
        Assert.Equal(2, Q(new EventFilter { Containers = new[] { "thesis" } }).Count);
        Assert.Equal(2, Q(new EventFilter { Containers = new[] { "nlp._.*" } }).Count);
        Assert.Equal("1.2", Q(new EventFilter { Types = new[] { "gpu.*" } }).Single().Gpu);
    }

    [Fact]
    public void The_original_DS01_line_form_is_read_too()
    {
        File.WriteAllText(File0, "{\"ts\":\"2026-01-14T11:00:00Z\",\"user\":\"system\",\"action\":\"cleanup.idle\",\"resource\":\"old-job._.charlie\",\"outcome\":\"stopped\"}\n");
        var e = EventReader.Read(EventReader.Files(File0), null, new EventReadStats()).Single();
        Assert.Equal("cleanup.idle", e.Type);
        Assert.Equal("old-job._.charlie", e.Container);
        Assert.Equal("stopped", e.Outcome);
        Assert.Equal(new DateTimeOffset(2026, 1, 14, 11, 0, 0, TimeSpan.Zero), e.Timestamp);
    }

    [Fact]
    public void Rotation_waits_a_week_then_shifts_files_keeps_four_and_keeps_owner_and_mode()
    {
        Write(File0, "container.create", "alice", T0);
        Assert.Null(EventLogRotation.Plan(File0, T0.AddDays(6.9)));
        File.SetUnixFileMode(File0, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        for (var n = 1; n <= 4; n++) Write($"{File0}.{n}", "container.start", "alice", T0.AddDays(-7 * n));
        var plan = EventLogRotation.Plan(File0, T0.AddDays(7))!;
        Assert.Equal(new[] { File0 + ".4" }, plan.Deletes);
        EventLogRotation.Apply(plan);
        Assert.True(File.Exists(File0));
        Assert.Equal(0, new FileInfo(File0).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite, File.GetUnixFileMode(File0));
        Assert.Equal(new[] { ".4", ".3", ".2", ".1" }, EventReader.Files(File0).Where(f => f != File0).Select(Path.GetExtension));
        Assert.Equal(T0, EventLogRotation.FirstEventTime(File0 + ".1"));
        Assert.Equal(T0.AddDays(-21), EventLogRotation.FirstEventTime(File0 + ".4"));
        Assert.Null(EventLogRotation.Plan(File0, T0.AddDays(30)));  // empty: nothing to rotate
        Write(File0, "container.stop", "alice", T0.AddDays(8));
        Assert.Equal(5, EventReader.Read(EventReader.Files(File0), null, new EventReadStats()).Count());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

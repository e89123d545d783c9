using System.Text.Json;
using Ds01.Core;
using Ds01.Core.Events;
using Ds01.Core.Identity;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>Events in DS01's envelope, written through the one recorder the services use.</summary>
public class EventRecorderTests
{
    private static readonly UserIdentity Admin = new("root", 0, 0, "/root", new[] { "root" });
    private static readonly UserIdentity Alice = new("alice", 4242, 4242, "/home/alice", new[] { "alice" });
    private static readonly DateTimeOffset At = new(2026, 3, 1, 12, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public void An_event_has_DS01s_envelope_in_order_and_names_the_admin_who_acted_for_someone()
    {
        using var cfg = new TempConfig();
        var feedback = new FeedbackQueue();
        var recorder = new EventRecorder(new EventLog(cfg.EventLogFile), Admin, feedback, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(At));

        Assert.True(recorder.Record("container.start", Alice, new Dictionary<string, object?> { ["container"] = "a._.4242", ["gpu"] = "" }));
        Assert.True(recorder.Record("container.stop", Admin, new Dictionary<string, object?> { ["container"] = "r._.0" }));

        var lines = File.ReadAllLines(cfg.EventLogFile);
        Assert.Equal(2, lines.Length);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal(new[] { "timestamp", "event_type", "schema_version", "user", "source", "details" }, first.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-03-01T12:00:00.123Z", first.GetProperty("timestamp").GetString());
        Assert.Equal(("container.start", "1", "alice", "ds01-powershell"),
            (first.GetProperty("event_type").GetString(), first.GetProperty("schema_version").GetString(), first.GetProperty("user").GetString(), first.GetProperty("source").GetString()));
        Assert.Equal("root", first.GetProperty("details").GetProperty("by").GetString());
        Assert.False(JsonDocument.Parse(lines[1]).RootElement.GetProperty("details").TryGetProperty("by", out _));
        Assert.Empty(feedback.Drain());
    }

    [Fact]
    public void A_line_stays_under_4096_bytes_however_long_the_details()
    {
        using var cfg = new TempConfig();
        var recorder = new EventRecorder(new EventLog(cfg.EventLogFile), Alice, new FeedbackQueue(), TimeProvider.System);
        recorder.Record("image.build", Alice, new Dictionary<string, object?> { ["log"] = new string('x', 10_000), ["image"] = "i" });
        var line = File.ReadAllBytes(cfg.EventLogFile);
        Assert.True(line.Length <= EventLog.MaxLineBytes + 1);
        var details = JsonDocument.Parse(line).RootElement.GetProperty("details");
        Assert.True(details.GetProperty("truncated").GetBoolean());
        Assert.Equal("i", details.GetProperty("image").GetString());
    }

    [Fact]
    public void A_log_that_cannot_be_written_becomes_a_warning_and_the_action_goes_on()
    {
        using var cfg = new TempConfig();
        // A directory where the file should be: open(2) fails for root too.
        Directory.CreateDirectory(cfg.EventLogFile);
        var feedback = new FeedbackQueue();
        var recorder = new EventRecorder(new EventLog(cfg.EventLogFile), Alice, feedback, TimeProvider.System);

        Assert.False(recorder.Record("container.remove", Alice));

        var warning = Assert.Single(feedback.Drain());
        Assert.Equal(FeedbackKind.Warning, warning.Kind);
        Assert.Contains("container.remove", warning.Message);
        Assert.Contains(cfg.EventLogFile, warning.Message);
    }

    [Fact]
    public void Feedback_drains_in_the_order_it_was_said_and_only_once()
    {
        var q = new FeedbackQueue();
        q.Note("one");
        q.Warn("two");
        q.Note("three");
        Assert.Equal(new[] { "one", "two", "three" }, q.Drain().Select(i => i.Message));
        Assert.Empty(q.Drain());
    }
}

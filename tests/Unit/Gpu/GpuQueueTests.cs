using System.Text.Json;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

public sealed class GpuQueueTests : IDisposable
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private readonly string _state = Directory.CreateTempSubdirectory("ds01-queue-").FullName;
    private readonly Clock _clock = new();
    private readonly GpuQueue _queue;

    public GpuQueueTests() => _queue = new GpuQueue(_state, _clock);

    public void Dispose() => Directory.Delete(_state, true);

    private GpuQueueEntry Add(string user, int priority, int count = 1, DateTimeOffset? expires = null, int? pid = null)
    {
        var e = _queue.Enqueue(user, user + "-job._.1001", count, priority, expires, pid);
        _clock.Now = _clock.Now.AddSeconds(1);
        return e;
    }

    [Fact]
    public void The_queue_directory_is_open_to_every_user_whoever_queued_first()
    {
        Add("alice", 5);
        var mode = File.GetUnixFileMode(Path.Combine(_state, "gpu-queue"));
        Assert.True(mode.HasFlag(UnixFileMode.OtherWrite) && mode.HasFlag(UnixFileMode.StickyBit), mode.ToString());
    }

    [Fact]
    public void A_named_slot_and_the_full_gpu_permission_travel_with_the_entry()
    {
        var e = _queue.Enqueue("bob", "b._.1002", 1, 50, slot: "2.1", allowFullGpu: false);
        var read = Assert.Single(_queue.List());
        Assert.Equal(("2.1", false), (read.Slot, read.AllowFullGpu));
        Assert.Equal(e.Id, read.Id);
    }

    [Fact]
    public void Enqueue_writes_one_json_file_in_the_state_dir_with_snake_case_fields()
    {
        var e = Add("alice", 5, count: 2);
        var file = Assert.Single(Directory.GetFiles(Path.Combine(_state, "gpu-queue")));
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        Assert.Equal("alice", doc.RootElement.GetProperty("user").GetString());
        Assert.Equal("alice-job._.1001", doc.RootElement.GetProperty("container").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(5, doc.RootElement.GetProperty("priority").GetInt32());
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero), doc.RootElement.GetProperty("requested_at").GetDateTimeOffset());
        Assert.Equal(e, Assert.Single(_queue.List()));
    }

    [Fact]
    public void List_is_by_priority_then_arrival_and_remove_takes_an_entry_out()
    {
        var a = Add("a", 0);
        var b = Add("b", 10);
        var c = Add("c", 0);
        var d = Add("d", 10);
        Assert.Equal(new[] { b, d, a, c }, _queue.List());
        Assert.True(_queue.Remove(d));
        Assert.False(_queue.Remove(d));
        Assert.Equal(new[] { b, a, c }, _queue.List());
    }

    [Fact]
    public void First_in_line_is_the_highest_priority_earliest_entry_that_can_be_served()
    {
        var early = Add("early", 0);
        var big = Add("big", 5, count: 4);
        var late = Add("late", 0);
        // Everything can be served: the priority-5 request goes first.
        Assert.True(_queue.IsFirstInLine(big, _ => true));
        Assert.False(_queue.IsFirstInLine(early, _ => true));
        // Only one slot is free: the 4-GPU request cannot be served and does not block; arrival decides.
        bool OneFree(GpuQueueEntry e) => e.Count <= 1;
        Assert.True(_queue.IsFirstInLine(early, OneFree));
        Assert.False(_queue.IsFirstInLine(late, OneFree));
        Assert.False(_queue.IsFirstInLine(big, OneFree));
        _queue.Remove(early);
        Assert.True(_queue.IsFirstInLine(late, OneFree));
        // An entry no longer in the queue has no place in line.
        Assert.False(_queue.IsFirstInLine(early, _ => true));
    }

    [Fact]
    public void Expired_entries_and_dead_waiters_do_not_block_and_are_pruned()
    {
        var expiring = Add("expiring", 9, expires: _clock.Now.AddSeconds(30));
        var dead = Add("dead", 9, pid: int.MaxValue - 7);
        var alive = Add("alive", 0, pid: Environment.ProcessId);
        Assert.Equal(new[] { expiring, alive }, _queue.List());
        _clock.Now = _clock.Now.AddSeconds(25);
        _queue.Touch(alive); // still asking
        _clock.Now = _clock.Now.AddSeconds(25);
        Assert.Equal(new[] { alive.Id }, _queue.List().Select(e => e.Id));
        Assert.True(_queue.IsFirstInLine(alive, _ => true));
        File.WriteAllText(Path.Combine(_queue.Directory, "garbage.json"), "{not json");
        Assert.Equal(3, _queue.Prune());
        Assert.Single(Directory.GetFiles(_queue.Directory));
        Assert.False(_queue.Remove(dead));
    }

    [Fact]
    public void A_waiter_that_stops_asking_loses_its_place_after_the_staleness_and_one_that_asks_keeps_it()
    {
        // Both live processes (this one): only asking again keeps an entry in line, so a file left with a live pid
        // in it, or a client that never asks again, cannot hold everyone back for its whole deadline.
        var silent = Add("silent", 9, expires: _clock.Now.AddHours(24), pid: Environment.ProcessId);
        var asking = Add("asking", 0, expires: _clock.Now.AddHours(24), pid: Environment.ProcessId);
        for (var i = 0; i < 5; i++)
        {
            _clock.Now = _clock.Now + GpuQueue.Staleness / 4;
            _queue.Touch(asking);
        }
        var left = Assert.Single(_queue.List());
        Assert.Equal((asking.Id, asking.RequestedAt), (left.Id, left.RequestedAt));
        Assert.Equal(_clock.Now, left.SeenAt);
        Assert.False(_queue.IsFirstInLine(silent, _ => true));
        Assert.True(_queue.IsFirstInLine(asking, _ => true));
    }

    [Fact]
    public void The_queue_ds01d_serves_reads_back_as_written_and_drops_entries_that_fail_the_file_checks()
    {
        var a = Add("alice", 5, count: 2, expires: _clock.Now.AddMinutes(5), pid: Environment.ProcessId);
        var b = Add("bob", 50);
        var back = GpuQueue.Deserialize(GpuQueue.Serialize(_queue.List()));
        Assert.Equal(new[] { ("bob", "bob-job._.1001", 1, 50), ("alice", "alice-job._.1001", 2, 5) }, back.Select(e => (e.User, e.Container, e.Count, e.Priority)));
        Assert.Equal(a.RequestedAt, back[1].RequestedAt);
        Assert.Equal(b.RequestedAt, back[0].RequestedAt);
        var bad = "[{\"user\":\"\",\"container\":\"x\",\"count\":1,\"priority\":1,\"requested_at\":\"2026-03-01T09:00:00Z\"}," +
                  "{\"user\":\"eve\",\"container\":\"x\",\"count\":1000,\"priority\":1,\"requested_at\":\"2026-03-01T09:00:00Z\"}," +
                  "{\"user\":\"eve\",\"container\":\"y\",\"count\":1,\"priority\":101,\"requested_at\":\"2026-03-01T09:00:00Z\"}]";
        Assert.Empty(GpuQueue.Deserialize(bad));
    }

    [Fact]
    public void An_id_cannot_name_a_file_outside_the_queue()
    {
        var e = Add("alice", 0);
        Assert.Throws<Ds01.Core.Ds01Exception>(() => _queue.Remove(e with { Id = "../../etc/passwd" }));
    }

    [Fact]
    public void Empty_or_missing_queue_lists_nothing()
    {
        Assert.Empty(new GpuQueue(Path.Combine(_state, "nowhere")).List());
        Assert.Equal(0, new GpuQueue(Path.Combine(_state, "nowhere")).Prune());
    }
}

namespace Ds01.Core.Events;

/// <summary>One line of events.jsonl in DS01's envelope.</summary>
public sealed class Ds01Event
{
    public DateTimeOffset Timestamp { get; init; }
    public string EventType { get; init; } = "";
    public string SchemaVersion { get; init; } = "1";
    public string User { get; init; } = "";
    public string Source { get; init; } = "";
    public IReadOnlyDictionary<string, object?> Details { get; init; } = new Dictionary<string, object?>();

    public override string ToString() => $"{Timestamp:u} {EventType} {User}";
}

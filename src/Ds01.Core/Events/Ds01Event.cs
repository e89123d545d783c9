namespace Ds01.Core.Events;

/// <summary>
/// One line of events.jsonl in DS01's envelope, flattened for reports: the common detail fields (container,
/// GPU, outcome, who acted) are columns of their own and the whole details object stays as compact JSON, so
/// Export-Csv gives a usable sheet.
/// </summary>
public sealed class Ds01Event
{
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>noun.verb: container.create, gpu.release, cleanup.idle, ...</summary>
    public string Type { get; init; } = "";
    /// <summary>Whose resource the event is about.</summary>
    public string User { get; init; } = "";
    /// <summary>Who caused it: details.by when an admin or maintenance acted for the user, else the user.</summary>
    public string Actor { get; init; } = "";
    public string Source { get; init; } = "";
    /// <summary>The container tag (name._.uid), when the event is about a container.</summary>
    public string Container { get; init; } = "";
    /// <summary>GPU slots, comma-separated.</summary>
    public string Gpu { get; init; } = "";
    /// <summary>details.outcome (stopped, removed, failure, ...), empty when the event type says it all.</summary>
    public string Outcome { get; init; } = "";
    public string SchemaVersion { get; init; } = "1";
    /// <summary>The details object as compact JSON.</summary>
    public string Details { get; init; } = "{}";

    public override string ToString() => $"{Timestamp:u} {Type} {User}";
}

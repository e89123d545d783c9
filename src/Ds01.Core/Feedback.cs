using System.Collections.Concurrent;

namespace Ds01.Core;

/// <summary>What a service wants a person to hear besides its result: warnings, and notes for -Verbose.</summary>
public interface IFeedbackSink
{
    void Warn(string message);
    void Note(string message);
}

public enum FeedbackKind { Note, Warning }

public sealed record FeedbackItem(FeedbackKind Kind, string Message);

/// <summary>
/// The one feedback channel of a command: services (on any thread) add to it, the host drains it on its own
/// thread (PowerShell's Write* may only be called from the pipeline thread), in the order things were said.
/// </summary>
public sealed class FeedbackQueue : IFeedbackSink
{
    private readonly ConcurrentQueue<FeedbackItem> _items = new();

    public void Warn(string message) => _items.Enqueue(new FeedbackItem(FeedbackKind.Warning, message));

    public void Note(string message) => _items.Enqueue(new FeedbackItem(FeedbackKind.Note, message));

    /// <summary>Everything said since the last drain, oldest first.</summary>
    public IReadOnlyList<FeedbackItem> Drain()
    {
        var list = new List<FeedbackItem>();
        while (_items.TryDequeue(out var item)) list.Add(item);
        return list;
    }
}

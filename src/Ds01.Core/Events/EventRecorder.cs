using Ds01.Core.Identity;

namespace Ds01.Core.Events;

/// <summary>
/// The one way services record what they did: an event in the owner's name, "by" the caller when an admin acts
/// for someone, and a failed write handed to the feedback sink as a warning (the action itself already happened,
/// so it is never undone or hidden because the audit log could not be written).
/// </summary>
public sealed class EventRecorder
{
    private readonly EventLog _log;
    private readonly UserIdentity _caller;
    private readonly IFeedbackSink _feedback;
    private readonly TimeProvider _clock;

    public EventRecorder(EventLog log, UserIdentity caller, IFeedbackSink feedback, TimeProvider clock)
    {
        _log = log;
        _caller = caller;
        _feedback = feedback;
        _clock = clock;
    }

    public EventLog Log => _log;

    /// <summary>Records one event; returns false (after warning) when it could not be written.</summary>
    public bool Record(string eventType, UserIdentity owner, IReadOnlyDictionary<string, object?>? details = null) =>
        Record(eventType, owner.Name, owner.Uid, details);

    /// <param name="actor">Who acted, when it is not a person (maintenance); otherwise the caller, when not the owner.</param>
    public bool Record(string eventType, string ownerName, int? ownerUid, IReadOnlyDictionary<string, object?>? details = null, string? actor = null)
    {
        var d = details is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(details);
        var actingForOther = ownerUid is { } uid ? uid != _caller.Uid : ownerName != _caller.Name;
        if (actor is not null) d["by"] = actor;
        else if (actingForOther) d["by"] = _caller.Name;
        var problem = _log.Write(eventType, ownerName, d, _clock.GetUtcNow());
        if (problem is null) return true;
        _feedback.Warn(problem);
        return false;
    }
}

namespace Ds01.Core.Events;

/// <summary>Reading the audit trail with the access rule applied: non-admins see only their own events.</summary>
public sealed class EventService
{
    private readonly Ds01Session _session;

    public EventService(Ds01Session session) => _session = session;

    /// <summary>The filter as the caller may use it: a non-admin's user list is pinned to themselves.</summary>
    public EventFilter Scope(EventFilter requested)
    {
        if (requested.Since is { } s && requested.Until is { } u && u < s)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "UntilBeforeSince", $"-Until ({u:u}) is before -Since ({s:u}).", null,
                "Swap the two times, or leave one out.");
        if (_session.Access.CallerIsAdmin) return requested;
        var me = _session.Caller.Name;
        var other = requested.Users?.FirstOrDefault(n => n != me);
        if (other is not null)
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "NotAnAdmin",
                $"Only an admin may read another user's events; you are '{me}' and asked for '{other}'.", other,
                "Leave out -User to read your own events, or ask an admin.");
        return new EventFilter { Since = requested.Since, Until = requested.Until, Types = requested.Types, Containers = requested.Containers, Users = new[] { me } };
    }

    /// <summary>The files to read: the given log (default events.jsonl) and its rotations, oldest first.</summary>
    public IReadOnlyList<string> Files(string? path)
    {
        var file = string.IsNullOrEmpty(path) ? _session.Paths.EventLogFile : Path.GetFullPath(path);
        if (Directory.Exists(file))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "EventLogIsDirectory", $"'{file}' is a directory, not an event log.", file,
                "Pass the events.jsonl file itself.");
        var files = EventReader.Files(file);
        if (files.Count == 0 && !string.IsNullOrEmpty(path))
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "EventLogNotFound", $"There is no event log at '{file}'.", file,
                "Check the path; the default log is $DS01_LOG_DIR/events.jsonl.");
        return files;
    }

    public IEnumerable<Ds01Event> Read(EventFilter requested, EventReadStats stats, string? path = null) =>
        EventReader.Read(Files(path), Scope(requested), stats);
}

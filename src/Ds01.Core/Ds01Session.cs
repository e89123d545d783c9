using Ds01.Core.Access;
using Ds01.Core.Configuration;
using Ds01.Core.Events;
using Ds01.Core.Identity;

namespace Ds01.Core;

/// <summary>
/// Everything one command needs: paths, config (each file loaded once), the caller and the access policy, the
/// event recorder and the feedback channel. Cmdlets build one per invocation so a changed config or
/// environment is picked up at once.
/// </summary>
public class Ds01Session
{
    public Ds01Session(Ds01Paths paths, IIdentitySource identities, TimeProvider? clock = null)
    {
        Paths = paths;
        Identities = identities;
        Config = new ConfigStore(paths);
        Caller = identities.Current();
        Clock = clock ?? TimeProvider.System;
        Access = new AccessPolicy(identities, Caller, () => TryLimits());
        Events = new EventLog(paths.EventLogFile);
        Recorder = new EventRecorder(Events, Caller, Feedback, Clock);
    }

    public Ds01Paths Paths { get; }
    public IIdentitySource Identities { get; }
    public ConfigStore Config { get; }
    public UserIdentity Caller { get; }
    public AccessPolicy Access { get; }
    public EventLog Events { get; }
    /// <summary>The one way services write events; a failed write becomes a warning in <see cref="Feedback"/>.</summary>
    public EventRecorder Recorder { get; }
    /// <summary>Warnings and notes for the host to show; drained on the host's thread.</summary>
    public FeedbackQueue Feedback { get; } = new();
    public TimeProvider Clock { get; }

    public static Ds01Session FromEnvironment() => new(Ds01Paths.FromEnvironment(), new OsIdentitySource());

    // Admin checks must work for root even before a config exists; a broken config is reported elsewhere.
    private ResourceLimitsConfig? TryLimits()
    {
        try { return Config.ResourceLimits; }
        catch (Ds01Exception) { return null; }
    }

    public Ds01ResourceLimit LimitsFor(UserIdentity user) =>
        LimitResolver.Resolve(Config.ResourceLimits, user.Name, user.Groups);
}

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

    public Ds01Paths Paths { get; private set; }
    public IIdentitySource Identities { get; }
    public ConfigStore Config { get; }
    public UserIdentity Caller { get; }
    public AccessPolicy Access { get; }
    public EventLog Events { get; private set; }
    /// <summary>The one way services write events; a failed write becomes a warning in <see cref="Feedback"/>.</summary>
    public EventRecorder Recorder { get; private set; }
    /// <summary>Warnings and notes for the host to show; drained on the host's thread.</summary>
    public FeedbackQueue Feedback { get; } = new();
    /// <summary>The long step under way (legacy commit, GPU queue), for the host's progress display.</summary>
    public ActivityState Activity { get; } = new();

    /// <summary>True when commands go through ds01d, which writes the event log itself (root-owned, one writer).</summary>
    public bool ViaService { get; private set; }

    /// <summary>Through ds01d the service logs what it admits; the client's own lines would be refused by the root-owned log, so they go nowhere.</summary>
    public void UseService()
    {
        ViaService = true;
        Events = new EventLog("/dev/null");
        Recorder = new EventRecorder(Events, Caller, Feedback, Clock);
        // The service's lock and queue live in its own state dir (root-only, so nobody can hold its lock); the
        // client's local lock then only orders this user's own commands.
        Paths = new Ds01Paths(Paths.ConfigDir, PrivateStateDir(Paths.StateDir), Paths.LogDir);
    }

    /// <summary>The configured state dir when this user may write it (tests, single-user machines), else a private one.</summary>
    private string PrivateStateDir(string configured)
    {
        if (IsWritableDirectory(configured)) return configured;
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        var dir = !string.IsNullOrEmpty(runtime) && IsWritableDirectory(runtime!) ? Path.Combine(runtime!, "ds01") : Path.Combine(Path.GetTempPath(), $"ds01-{Caller.Uid}");
        if (!Directory.Exists(dir)) Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // Someone else's directory (planted in /tmp) or a link is not ours to lock in: use a fresh one.
        var info = new DirectoryInfo(dir);
        if (info.LinkTarget is not null || !IsWritableDirectory(dir) || (info.UnixFileMode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            dir = Directory.CreateTempSubdirectory("ds01-").FullName;
        return dir;
    }

    private static bool IsWritableDirectory(string dir)
    {
        try
        {
            if (!Directory.Exists(dir)) return false;
            var probe = Path.Combine(dir, $".ds01-probe-{Environment.ProcessId}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
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

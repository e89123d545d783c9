namespace Ds01.Core;

/// <summary>Where Ds01 reads config and writes state and logs; each overridable by environment.</summary>
public sealed class Ds01Paths
{
    public const string ConfigDirVariable = "DS01_CONFIG_DIR";
    public const string StateDirVariable = "DS01_STATE_DIR";
    public const string LogDirVariable = "DS01_LOG_DIR";

    public const string DefaultConfigDir = "/etc/ds01";
    public const string DefaultStateDir = "/var/lib/ds01";
    public const string DefaultLogDir = "/var/log/ds01";
    public const string EventLogFileName = "events.jsonl";
    public const string AllocationLockFileName = "gpu-allocation.lock";
    /// <summary>Under the state dir: one file per GPU waiter (GpuQueue), one per in-flight create (GpuReservations).</summary>
    public const string GpuQueueDirName = "gpu-queue";
    public const string GpuReservationsDirName = "gpu-reservations";

    public Ds01Paths(string configDir, string stateDir, string logDir)
    {
        ConfigDir = configDir;
        StateDir = stateDir;
        LogDir = logDir;
    }

    public string ConfigDir { get; }
    public string StateDir { get; }
    public string LogDir { get; }

    public string ResourceLimitsFile => Path.Combine(ConfigDir, "resource-limits.yaml");
    public string GpuConfigFile => Path.Combine(ConfigDir, "gpu-config.yaml");
    public string ImageCatalogFile => Path.Combine(ConfigDir, "ml_images.repo");
    public string EventLogFile => Path.Combine(LogDir, EventLogFileName);
    public string AllocationLockFile => Path.Combine(StateDir, AllocationLockFileName);
    public string GpuQueueDir => Path.Combine(StateDir, GpuQueueDirName);
    public string GpuReservationsDir => Path.Combine(StateDir, GpuReservationsDirName);

    public static Ds01Paths FromEnvironment() => new(
        Env(ConfigDirVariable, DefaultConfigDir, sharedWrite: false),
        Env(StateDirVariable, DefaultStateDir, sharedWrite: true),
        Env(LogDirVariable, DefaultLogDir, sharedWrite: true));

    private static string Env(string name, string fallback, bool sharedWrite)
    {
        var v = TrustedOverride(name, Environment.GetEnvironmentVariable(name), directory: true, sharedWrite);
        return string.IsNullOrWhiteSpace(v) ? fallback : v!;
    }

    /// <summary>
    /// An environment override as a non-root caller may use it. The config names admins and quotas, the state dir
    /// holds the lock and queue everyone shares, the log is the audit trail, and nvidia-smi decides which GPUs exist:
    /// pointing any of them at files of one's own would widen one's rights. So for a non-root caller an override is
    /// honoured only when root owns the target and every directory above it, and none of them can be changed by
    /// anyone else (a sticky, world-writable directory such as /tmp is fine above, and for the state and log dirs
    /// themselves); otherwise it is refused with PermissionDenied. Root may point anywhere. Returns the resolved path.
    /// </summary>
    public static string? TrustedOverride(string variable, string? value, bool directory, bool sharedWrite = false)
    {
        if (string.IsNullOrWhiteSpace(value) || OperatingSystem.IsWindows() || Posix.EffectiveUid == 0) return value;
        var why = Untrusted(value!, directory, sharedWrite, out var resolved);
        if (why is null) return resolved;
        throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "EnvironmentOverrideRefused",
            $"${variable} is set to '{value}', which a user other than root could change ({why}); it is not used.", variable,
            $"Unset ${variable} to use the lab's own setting, or ask an admin to make the target and its parent directories root-owned and not writable by others.");
    }

    /// <summary>Why <paramref name="path"/> cannot be trusted, or null; <paramref name="resolved"/> is its real path.</summary>
    internal static string? Untrusted(string path, bool directory, bool sharedWrite, out string resolved)
    {
        resolved = path;
        if (!Path.IsPathRooted(path)) return "it is not an absolute path";
        var real = Posix.RealPath(path);
        if (real is null) return "it does not exist";
        resolved = real;
        var target = Posix.Stat(real);
        if (target is not { } t) return "it does not exist";
        if (directory && !t.IsDirectory) return "it is not a directory";
        if (!directory && !t.IsRegular) return "it is not a regular file";
        if (t.Uid != 0) return $"'{real}' belongs to uid {t.Uid}, not root";
        if (t.WritableByOthers && !(sharedWrite && t.Sticky)) return $"'{real}' is writable by group or others";
        for (var dir = Path.GetDirectoryName(real); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Posix.Stat(dir) is not { } d) return $"'{dir}' cannot be read";
            if (d.Uid != 0) return $"'{dir}' belongs to uid {d.Uid}, not root";
            if (d.WritableByOthers && !d.Sticky) return $"'{dir}' is writable by group or others";
        }
        return null;
    }
}

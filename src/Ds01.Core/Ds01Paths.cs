namespace Ds01.Core;

/// <summary>Where Ds01 reads config and writes state and logs; each overridable by environment.</summary>
public sealed class Ds01Paths
{
    public const string ConfigDirVariable = "DS01_CONFIG_DIR";
    public const string StateDirVariable = "DS01_STATE_DIR";
    public const string LogDirVariable = "DS01_LOG_DIR";

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
    public string EventLogFile => Path.Combine(LogDir, "events.jsonl");
    public string AllocationLockFile => Path.Combine(StateDir, "gpu-allocation.lock");

    public static Ds01Paths FromEnvironment() => new(
        Env(ConfigDirVariable, "/etc/ds01"),
        Env(StateDirVariable, "/var/lib/ds01"),
        Env(LogDirVariable, "/var/log/ds01"));

    private static string Env(string name, string fallback)
    {
        var v = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(v) ? fallback : v!;
    }
}

namespace Ds01.Tests;

/// <summary>A throw-away DS01_CONFIG_DIR/STATE/LOG tree for one test.</summary>
public sealed class TempConfig : IDisposable
{
    public TempConfig(string? resourceLimitsYaml = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "ds01-test-" + Guid.NewGuid().ToString("N")[..12]);
        ConfigDir = Path.Combine(Root, "etc");
        StateDir = Path.Combine(Root, "state");
        LogDir = Path.Combine(Root, "log");
        Directory.CreateDirectory(ConfigDir);
        Directory.CreateDirectory(StateDir);
        Directory.CreateDirectory(LogDir);
        if (resourceLimitsYaml is not null) Write("resource-limits.yaml", resourceLimitsYaml);
    }

    public string Root { get; }
    public string ConfigDir { get; }
    public string StateDir { get; }
    public string LogDir { get; }
    public string EventLogFile => Path.Combine(LogDir, "events.jsonl");

    public string Write(string name, string text)
    {
        var path = Path.Combine(ConfigDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    public Dictionary<string, string?> Env => new()
    {
        ["DS01_CONFIG_DIR"] = ConfigDir,
        ["DS01_STATE_DIR"] = StateDir,
        ["DS01_LOG_DIR"] = LogDir,
    };

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

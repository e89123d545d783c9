using System.Text.Json;
using Ds01.Core.Containers;
using System.Text.Json.Serialization;

namespace Ds01.Core.Maintenance;

/// <summary>What maintenance remembers about one container between runs (keyed by Docker id).</summary>
public sealed class ContainerSamples
{
    /// <summary>Start of the current unbroken run of idle samples; null when the last sample was busy.</summary>
    public DateTimeOffset? IdleSince { get; set; }
    public DateTimeOffset LastSample { get; set; }
    /// <summary>The container's start this record belongs to; a restart starts over.</summary>
    public DateTimeOffset? StartedAt { get; set; }
    public double? LastCpuPercent { get; set; }
    /// <summary>The idle streak (IdleSince) already warned about.</summary>
    public DateTimeOffset? IdleWarnedFor { get; set; }
    /// <summary>The start already warned about for the runtime limit.</summary>
    public DateTimeOffset? RuntimeWarnedFor { get; set; }
    /// <summary>When the idle stop is due, as last computed (shown by the status and the dashboard).</summary>
    public DateTimeOffset? StopsAt { get; set; }
    public string Tag { get; set; } = "";
}

/// <summary>
/// $DS01_STATE_DIR/maintenance-state.json: idle samples, warnings given, the last run. Written whole to a
/// temp file and renamed, so a crash mid-write leaves the previous state.
/// </summary>
public sealed class MaintenanceState
{
    public const string FileName = "maintenance-state.json";
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public Dictionary<string, ContainerSamples> Containers { get; set; } = new();
    public DateTimeOffset? LastRun { get; set; }
    /// <summary>The end of the last real GpuHold pass: holds that expired after it are new.</summary>
    public DateTimeOffset? LastGpuHoldRun { get; set; }
    /// <summary>Actions carried out so far, by task (for the metrics).</summary>
    public Dictionary<string, long> ActionsByTask { get; set; } = new();

    public static string PathIn(string stateDir) => System.IO.Path.Combine(stateDir, FileName);

    public static MaintenanceState Load(string stateDir)
    {
        var file = PathIn(stateDir);
        try
        {
            if (!File.Exists(file)) return new MaintenanceState();
            return JsonSerializer.Deserialize<MaintenanceState>(File.ReadAllText(file), Json) ?? new MaintenanceState();
        }
        catch (JsonException e)
        {
            throw new Ds01Exception(Ds01ErrorKind.InvalidData, "MaintenanceStateCorrupt", $"{file} is not valid: {e.Message}", file,
                "Move the file aside; the next run starts the idle samples over.");
        }
    }

    public void Save(string stateDir)
    {
        Directory.CreateDirectory(stateDir);
        var file = PathIn(stateDir);
        var tmp = file + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, file, overwrite: true);
    }

    /// <summary>Fills IdleSince and StopsAt of running containers from the last run's samples; no state, no change.</summary>
    public static IReadOnlyList<Ds01Container> Annotate(IReadOnlyList<Ds01Container> containers, string stateDir)
    {
        MaintenanceState state;
        try { state = Load(stateDir); }
        catch (Exception e) when (e is Ds01Exception or IOException or UnauthorizedAccessException) { return containers; }
        foreach (var c in containers)
            if (c.State == ContainerState.Running && state.Containers.TryGetValue(c.Id, out var s) && s.IdleSince is not null)
            {
                c.IdleSince = s.IdleSince;
                c.StopsAt = s.StopsAt;
            }
        return containers;
    }

    public MaintenanceState Clone() => JsonSerializer.Deserialize<MaintenanceState>(JsonSerializer.Serialize(this, Json), Json)!;
}

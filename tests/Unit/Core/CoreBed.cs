using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Microsoft.Extensions.Time.Testing;

namespace Ds01.Tests.Unit.Core;

/// <summary>
/// Core's services over the in-memory engine: a throw-away config tree (real YAML, real allocation lock file in
/// its state dir), a fake clock, the real OS identity of the test runner as the caller.
/// </summary>
public sealed class CoreBed : IDisposable
{
    public const string Image = "ds01-test/busybox:latest";

    public CoreBed(string defaults = "", int gpus = 0, string extra = "")
    {
        Config = new TempConfig();
        Workspaces = Path.Combine(Config.Root, "ws");
        Directory.CreateDirectory(Workspaces);
        // Base defaults, overridden key by key by `defaults` ("key: value" lines).
        var d = new Dictionary<string, string> { ["cpu_limit"] = "2", ["memory_limit"] = "1G", ["max_containers"] = "5", ["gpu_limit"] = "1" };
        foreach (var line in defaults.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            d[line[..line.IndexOf(':')].Trim()] = line[(line.IndexOf(':') + 1)..].Trim();
        Config.Write("resource-limits.yaml",
            "defaults:\n" + string.Concat(d.Select(kv => $"  {kv.Key}: {kv.Value}\n")) +
            extra + "\n" +
            $"workspace_root: \"{Workspaces}/{{project}}\"\n" +
            $"allowed_mount_roots: [\"{Config.Root}\"]\n");
        Config.Write("gpu-config.yaml", "attach: simulated\nlock_timeout_seconds: 5\n" + (gpus == 0 ? "gpus: []\n" : "gpus:\n" + string.Concat(Enumerable.Range(0, gpus)
            .Select(i => $"  - {{ index: {i}, uuid: GPU-00000000-0000-4000-8000-00000000000{i}, model: Simulated H100 80GB, memory_mib: 81559 }}\n"))));
        Clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        Engine = new InMemoryEngine(Clock);
        Engine.AddImage(Image);
        Session = new Ds01Session(new Ds01Paths(Config.ConfigDir, Config.StateDir, Config.LogDir), new OsIdentitySource(), Clock);
        Placement = new GpuService(Session, Engine);
        Containers = new ContainerService(Session, Engine, Placement);
        Creation = new ContainerCreation(Session, Engine, Placement);
    }

    public TempConfig Config { get; }
    public string Workspaces { get; }
    public FakeTimeProvider Clock { get; }
    public InMemoryEngine Engine { get; }
    public Ds01Session Session { get; }
    public GpuService Placement { get; }
    public ContainerService Containers { get; }
    public ContainerCreation Creation { get; }
    public UserIdentity Me => Session.Caller;

    public Ds01Container Create(string name, int gpus = 0, string? image = Image, string? workspace = null) =>
        Creation.RunAsync(new ContainerCreateRequest { Name = name, Image = image, GpuCount = gpus, Workspace = workspace }, Me, CancellationToken.None)
            .GetAwaiter().GetResult();

    public Ds01Exception CreateFails(string name, int gpus = 0, string? image = Image) =>
        Xunit.Assert.Throws<Ds01Exception>(() => Create(name, gpus, image));

    /// <summary>The event log's lines, parsed.</summary>
    public IReadOnlyList<System.Text.Json.JsonElement> Events() =>
        File.Exists(Config.EventLogFile)
            ? File.ReadAllLines(Config.EventLogFile).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.Clone()).ToList()
            : Array.Empty<System.Text.Json.JsonElement>();

    public IReadOnlyList<string> EventTypes() => Events().Select(e => e.GetProperty("event_type").GetString()!).ToList();

    public void Dispose() => Config.Dispose();
}

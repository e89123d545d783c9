using System.Globalization;
using Ds01.Core.Configuration;
using YamlDotNet.RepresentationModel;

namespace Ds01.Core.Gpu;

/// <summary>How a slot reaches a container: NVIDIA runtime device requests, or labels and env only (no GPU runtime, CI).</summary>
public enum GpuAttachMode
{
    Nvidia,
    Simulated,
}

public sealed record GpuConfigMigInstance(int Device, string Profile, string Uuid);

/// <summary>One GPU of the static list in gpu-config.yaml.</summary>
public sealed record GpuConfigGpu(int Index, string Uuid, string Model, long? MemoryMiB, IReadOnlyList<GpuConfigMigInstance> MigInstances)
{
    /// <summary>A GPU listed with MIG instances is in MIG mode: its instances are the slots.</summary>
    public bool IsMig => MigInstances.Count > 0;
}

/// <summary>gpu-config.yaml, validated with file/line/column problems like resource-limits.yaml.</summary>
public sealed class GpuConfig
{
    public const string FileName = "gpu-config.yaml";
    // Sized from a measurement, not a guess: in ReliabilityTests' 16-process churn on a 2-core machine under load
    // (load average 20-40) one create held the lock 1.1-6.2 s (median about 3 s: Docker's create itself 1-5 s, the
    // list of the caller's containers 0.2-1.5 s), and the last of 16 waiters waited 58 s, past the former 60 s.
    // A waiter polls (AllocationLock), so hand-over is not first-come: 16 holds of up to 6 s is about 100 s,
    // and 300 s leaves room for that unfairness. A stuck holder still ends the wait (Docker's own timeouts end its create).
    public const double DefaultLockTimeoutSeconds = 300;

    public GpuConfig(string file, GpuAttachMode attach, string? architecture, string? imageCatalog,
        double lockTimeoutSeconds, IReadOnlyList<GpuConfigGpu>? gpus)
    {
        File = file; Attach = attach; Architecture = architecture; ImageCatalog = imageCatalog;
        LockTimeoutSeconds = lockTimeoutSeconds; Gpus = gpus;
    }

    public string File { get; }
    public GpuAttachMode Attach { get; }
    /// <summary>AIME architecture name (e.g. CUDA_ADA) used to pick images; null lets the caller decide.</summary>
    public string? Architecture { get; }
    public string? ImageCatalog { get; }
    public double LockTimeoutSeconds { get; }
    public TimeSpan LockTimeout => TimeSpan.FromSeconds(LockTimeoutSeconds);
    /// <summary>The static GPU list, which replaces nvidia-smi; null when the file has no `gpus:` key. Empty means no GPUs.</summary>
    public IReadOnlyList<GpuConfigGpu>? Gpus { get; }

    /// <summary>The defaults used when gpu-config.yaml does not exist.</summary>
    public static GpuConfig Default(string file) =>
        new(file, GpuAttachMode.Nvidia, null, null, DefaultLockTimeoutSeconds, null);

    /// <summary>The config in <paramref name="configDir"/>, or the defaults when the file is absent (it is optional).</summary>
    public static GpuConfig Load(string configDir)
    {
        var file = Path.Combine(configDir, FileName);
        return Posix.Stat(file) is not null ? YamlSource.ParseFile(file, Read) : Default(file);
    }

    public static GpuConfig Parse(string file, string text) => YamlSource.Parse(file, text, Read);

    /// <summary>Every problem in the text, without throwing.</summary>
    public static IReadOnlyList<ConfigProblem> Validate(string file, string text) => YamlSource.Validate(file, text, Read);

    /// <summary>The problems of gpu-config.yaml in a config dir; none when the file is absent, since it is optional.</summary>
    public static IEnumerable<ConfigProblem> ValidateDirectory(string configDir)
    {
        var file = Path.Combine(configDir, FileName);
        return Posix.Stat(file) is not null ? YamlSource.ValidateFile(file, Read) : Array.Empty<ConfigProblem>();
    }

    private static readonly string[] TopKeys = { "attach", "architecture", "image_catalog", "lock_timeout_seconds", "gpus" };
    private static readonly string[] GpuKeys = { "index", "uuid", "model", "memory_mib", "mig_instances" };
    private static readonly string[] MigKeys = { "device", "profile", "uuid" };

    private static GpuConfig? Read(YamlSource src)
    {
        var root = src.RootMapping();
        if (root is null) return null;

        var attach = GpuAttachMode.Nvidia;
        string? architecture = null, imageCatalog = null;
        var lockTimeout = DefaultLockTimeoutSeconds;
        List<GpuConfigGpu>? gpus = null;

        foreach (var (key, keyNode, value) in src.Entries(root))
        {
            switch (key)
            {
                case "attach":
                    var a = src.AsString(value, "attach");
                    if (a is null) break;
                    if (a.Equals("nvidia", StringComparison.OrdinalIgnoreCase)) attach = GpuAttachMode.Nvidia;
                    else if (a.Equals("simulated", StringComparison.OrdinalIgnoreCase)) attach = GpuAttachMode.Simulated;
                    else src.Problem(value, "InvalidValue", $"attach must be 'nvidia' or 'simulated', not '{a}'");
                    break;
                case "architecture":
                    architecture = src.AsString(value, "architecture");
                    break;
                case "image_catalog":
                    imageCatalog = src.AsString(value, "image_catalog");
                    break;
                case "lock_timeout_seconds":
                    if (!YamlSource.TryNumber(value, out var seconds))
                        src.Problem(value, "WrongType", $"lock_timeout_seconds must be a number, not '{Text(value)}'");
                    else if (seconds <= 0 || seconds > 3600)
                        src.Problem(value, "OutOfRange", $"lock_timeout_seconds is {Text(value)}; it must be greater than 0 and at most 3600");
                    else lockTimeout = seconds;
                    break;
                case "gpus":
                    gpus = ReadGpus(src, value);
                    break;
                default:
                    src.Problem(keyNode, "UnknownKey",
                        $"unknown key '{key}' at the top level; expected one of: {string.Join(", ", TopKeys)}");
                    break;
            }
        }
        return new GpuConfig(src.File, attach, architecture, imageCatalog, lockTimeout, gpus);
    }

    private static List<GpuConfigGpu>? ReadGpus(YamlSource src, YamlNode node)
    {
        if (YamlSource.IsNull(node)) return new List<GpuConfigGpu>();
        if (node is not YamlSequenceNode seq)
        {
            src.Problem(node, "WrongType", "gpus must be a list of GPUs (- index: 0 ...)");
            return null;
        }
        var gpus = new List<GpuConfigGpu>();
        var seenIndex = new HashSet<int>();
        var seenUuid = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in seq.Children)
        {
            var map = src.AsMapping(item, "each entry of gpus");
            if (map is null) continue;
            int? index = null;
            string? uuid = null, model = null;
            long? memory = null;
            var migs = new List<GpuConfigMigInstance>();
            YamlNode? indexNode = null, uuidNode = null;
            foreach (var (key, keyNode, value) in src.Entries(map))
            {
                switch (key)
                {
                    case "index": index = WholeNumber(src, value, "index of a GPU"); indexNode = value; break;
                    case "uuid": uuid = src.AsString(value, "uuid of a GPU"); uuidNode = value; break;
                    case "model": model = src.AsString(value, "model of a GPU"); break;
                    case "memory_mib":
                        var m = WholeNumber(src, value, "memory_mib");
                        if (m is <= 0) src.Problem(value, "OutOfRange", "memory_mib must be greater than 0");
                        else memory = m;
                        break;
                    case "mig_instances": migs = ReadMigs(src, value, seenUuid) ?? migs; break;
                    default:
                        src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' in a GPU; expected one of: {string.Join(", ", GpuKeys)}");
                        break;
                }
            }
            var where = index is null ? "a GPU" : $"GPU {index}";
            if (index is null && indexNode is null) src.Problem(item, "MissingKey", $"{where} needs an index");
            if (uuid is null && uuidNode is null) src.Problem(item, "MissingKey", $"{where} needs a uuid");
            if (model is null && !map.Children.ContainsKey(new YamlScalarNode("model"))) src.Problem(item, "MissingKey", $"{where} needs a model");
            if (index is { } i && indexNode is not null && !seenIndex.Add(i))
                src.Problem(indexNode, "DuplicateGpu", $"GPU index {i} is listed twice");
            if (uuid is not null && uuidNode is not null && !seenUuid.Add(uuid))
                src.Problem(uuidNode, "DuplicateGpu", $"uuid '{uuid}' is listed twice");
            if (index is not null && uuid is not null && model is not null)
                gpus.Add(new GpuConfigGpu(index.Value, uuid, model, memory, migs));
        }
        return gpus;
    }

    private static List<GpuConfigMigInstance>? ReadMigs(YamlSource src, YamlNode node, HashSet<string> seenUuid)
    {
        if (YamlSource.IsNull(node)) return new List<GpuConfigMigInstance>();
        if (node is not YamlSequenceNode seq)
        {
            src.Problem(node, "WrongType", "mig_instances must be a list of {device, profile, uuid}");
            return null;
        }
        var list = new List<GpuConfigMigInstance>();
        var seenDevice = new HashSet<int>();
        var slices = 0;
        foreach (var item in seq.Children)
        {
            var map = src.AsMapping(item, "each entry of mig_instances");
            if (map is null) continue;
            int? device = null;
            string? profile = null, uuid = null;
            foreach (var (key, keyNode, value) in src.Entries(map))
            {
                switch (key)
                {
                    case "device":
                        device = WholeNumber(src, value, "device of a MIG instance");
                        if (device is { } d && !seenDevice.Add(d)) src.Problem(value, "DuplicateMigDevice", $"MIG device {d} is listed twice on this GPU");
                        break;
                    case "profile":
                        profile = src.AsString(value, "profile of a MIG instance");
                        if (profile is not null)
                        {
                            if (Ds01GpuSlot.TryMigWeight(profile, out var w)) slices += (int)Math.Round(w * Ds01GpuSlot.MigComputeSlices);
                            else
                            {
                                src.Problem(value, "InvalidValue", $"MIG profile '{profile}' must start with a compute-slice count from 1g to 7g, like 3g.40gb");
                                profile = null;
                            }
                        }
                        break;
                    case "uuid":
                        uuid = src.AsString(value, "uuid of a MIG instance");
                        if (uuid is not null && !seenUuid.Add(uuid)) src.Problem(value, "DuplicateGpu", $"uuid '{uuid}' is listed twice");
                        break;
                    default:
                        src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' in a MIG instance; expected one of: {string.Join(", ", MigKeys)}");
                        break;
                }
            }
            foreach (var k in MigKeys)
                if (!map.Children.ContainsKey(new YamlScalarNode(k))) src.Problem(item, "MissingKey", $"a MIG instance needs a {k}");
            if (device is not null && profile is not null && uuid is not null) list.Add(new GpuConfigMigInstance(device.Value, profile, uuid));
        }
        // A GPU has 7 compute slices; more means a typo that would overstate what can be handed out.
        if (slices > Ds01GpuSlot.MigComputeSlices)
            src.Problem(node, "InvalidValue", $"the MIG instances of this GPU use {slices} compute slices; a GPU has {Ds01GpuSlot.MigComputeSlices}");
        return list;
    }

    private static int? WholeNumber(YamlSource src, YamlNode node, string what)
    {
        if (YamlSource.TryNumber(node, out var n) && Math.Abs(n % 1) < 1e-12 && n >= 0 && n <= int.MaxValue) return (int)n;
        src.Problem(node, "WrongType", $"{what} must be a whole number of 0 or more, not '{Text(node)}'");
        return null;
    }

    private static string Text(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : node.NodeType.ToString().ToLowerInvariant();
}

using YamlDotNet.RepresentationModel;

namespace Ds01.Core.Configuration;

/// <summary>The limits one scope (defaults, a group or a user) sets; a key present with value null means unlimited.</summary>
public sealed class LimitSet
{
    public static readonly LimitSet Empty = new(new Dictionary<string, object?>());

    public LimitSet(IReadOnlyDictionary<string, object?> values) => Values = values;

    public IReadOnlyDictionary<string, object?> Values { get; }

    public bool TryGet(string key, out object? value) => Values.TryGetValue(key, out value);
}

public sealed record GroupConfig(string Name, LimitSet Limits, IReadOnlyList<string> Members, GroupAggregate? Aggregate = null);

/// <summary>A group's limits over all its members' containers together (groups.&lt;g&gt;.aggregate), set on its systemd slice by ds01d install.</summary>
public sealed record GroupAggregate(double? Cpu, long? MemoryBytes);

public sealed record UserConfig(string Name, LimitSet Limits, string? Group);

/// <summary>resource-limits.yaml, validated.</summary>
public sealed class ResourceLimitsConfig
{
    public ResourceLimitsConfig(string file, LimitSet defaults, IReadOnlyDictionary<string, GroupConfig> groups,
        IReadOnlyDictionary<string, UserConfig> users, string? defaultGroup, IReadOnlyList<string> admins,
        string? workspaceRoot, IReadOnlyList<string> allowedMountRoots, IReadOnlyDictionary<string, long>? ulimits = null,
        string? dockerfilesRoot = null, IReadOnlyList<string>? allowedCapabilities = null, MaintenanceSettings? maintenance = null)
    {
        AllowedCapabilities = allowedCapabilities ?? Array.Empty<string>();
        DockerfilesRoot = dockerfilesRoot;
        Maintenance = maintenance ?? MaintenanceSettings.Default;
        Ulimits = ulimits ?? DefaultUlimits;
        File = file; Defaults = defaults; Groups = groups; Users = users; DefaultGroup = defaultGroup; Admins = admins;
        WorkspaceRoot = workspaceRoot; AllowedMountRoots = allowedMountRoots;
    }

    public string File { get; }
    /// <summary>The maintenance: section (thresholds of Invoke-Ds01Maintenance).</summary>
    public MaintenanceSettings Maintenance { get; }
    public LimitSet Defaults { get; }
    public IReadOnlyDictionary<string, GroupConfig> Groups { get; }
    public IReadOnlyDictionary<string, UserConfig> Users { get; }
    public string? DefaultGroup { get; }
    public IReadOnlyList<string> Admins { get; }
    /// <summary>Host path template mounted at /workspace; {user}, {uid}, {home} and {project} are filled in.</summary>
    public string? WorkspaceRoot { get; }
    /// <summary>
    /// Host directory template for users' project Dockerfiles ({project}.Dockerfile inside); {user}, {uid} and {home}
    /// are filled in. Null means DefaultDockerfilesRoot, DS01's ~/dockerfiles.
    /// </summary>
    public string? DockerfilesRoot { get; }

    /// <summary>Capabilities a non-admin's container may add under ds01d (allowed_capabilities); none by default.</summary>
    public IReadOnlyList<string> AllowedCapabilities { get; }

    public const string DefaultDockerfilesRoot = "{home}/dockerfiles";

    /// <summary>Path templates under which -Workspace and -DataPath may point.</summary>
    public IReadOnlyList<string> AllowedMountRoots { get; }

    /// <summary>Container ulimits (bytes or counts, -1 = unlimited); AIME's memlock=-1 and 64 MiB stack unless overridden.</summary>
    public IReadOnlyDictionary<string, long> Ulimits { get; }

    public static readonly IReadOnlyDictionary<string, long> DefaultUlimits = new Dictionary<string, long>
    {
        ["memlock"] = -1,
        ["stack"] = 67108864,
    };

    private static readonly string[] UlimitNames =
        { "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack" };

    public const string DefaultWorkspaceRoot = "{home}/workspace/{project}";

    public static ResourceLimitsConfig Parse(string file, string text) => YamlSource.Parse(file, text, Read);

    /// <summary>Reads the file itself; an unreadable file, a directory or a FIFO is a problem at line 1, column 1.</summary>
    public static ResourceLimitsConfig ParseFile(string file) => YamlSource.ParseFile(file, Read);

    public static IReadOnlyList<ConfigProblem> ValidateFile(string file) => YamlSource.ValidateFile(file, Read);

    /// <summary>Every problem in the text, without throwing.</summary>
    public static IReadOnlyList<ConfigProblem> Validate(string file, string text) => YamlSource.Validate(file, text, Read);

    private static readonly string[] TopKeys =
        { "defaults", "groups", "users", "default_group", "admins", "workspace_root", "allowed_mount_roots", "ulimits", "dockerfiles_root", "allowed_capabilities", "maintenance" };

    private static ResourceLimitsConfig? Read(YamlSource src)
    {
        var root = src.RootMapping();
        if (root is null) return null;

        var defaults = LimitSet.Empty;
        var groups = new Dictionary<string, GroupConfig>(StringComparer.Ordinal);
        var groupNodes = new Dictionary<string, YamlNode>();
        var users = new Dictionary<string, UserConfig>(StringComparer.Ordinal);
        var userGroupRefs = new List<(string group, YamlNode node, string user)>();
        string? defaultGroup = null;
        YamlNode? defaultGroupNode = null;
        var admins = new List<string>();
        string? workspaceRoot = null;
        string? dockerfilesRoot = null;
        var mountRoots = new List<string>();
        var capabilities = new List<string>();
        var ulimits = new Dictionary<string, long>(DefaultUlimits);
        MaintenanceSettings? maintenance = null;

        foreach (var (key, keyNode, value) in src.Entries(root))
        {
            switch (key)
            {
                case "defaults":
                    var dm = src.AsMapping(value, "defaults");
                    if (dm is not null) defaults = ReadLimits(src, dm, "defaults", _ => false);
                    break;
                case "groups":
                    var gm = src.AsMapping(value, "groups");
                    if (gm is null) break;
                    foreach (var (gname, gkey, gval) in src.Entries(gm))
                    {
                        var members = new List<string>();
                        GroupAggregate? aggregate = null;
                        var gmap = src.AsMapping(gval, $"group '{gname}'");
                        if (gmap is null) continue;
                        var limits = ReadLimits(src, gmap, $"group '{gname}'", k =>
                        {
                            if (k.key == "aggregate")
                            {
                                aggregate = ReadAggregate(src, k.value, gname);
                                return true;
                            }
                            if (k.key != "members") return false;
                            members = src.AsStringList(k.value, $"members of group '{gname}'") ?? members;
                            return true;
                        });
                        groups[gname] = new GroupConfig(gname, limits, members, aggregate);
                        groupNodes[gname] = gkey;
                    }
                    break;
                case "users":
                    var um = src.AsMapping(value, "users");
                    if (um is null) break;
                    foreach (var (uname, _, uval) in src.Entries(um))
                    {
                        string? group = null;
                        var umap = src.AsMapping(uval, $"user '{uname}'");
                        if (umap is null) continue;
                        var limits = ReadLimits(src, umap, $"user '{uname}'", k =>
                        {
                            if (k.key != "group") return false;
                            group = src.AsString(k.value, $"group of user '{uname}'");
                            if (group is not null) userGroupRefs.Add((group, k.value, uname));
                            return true;
                        });
                        users[uname] = new UserConfig(uname, limits, group);
                    }
                    break;
                case "default_group":
                    defaultGroup = src.AsString(value, "default_group");
                    defaultGroupNode = value;
                    break;
                case "admins":
                    admins = src.AsStringList(value, "admins") ?? admins;
                    break;
                case "workspace_root":
                    workspaceRoot = src.AsString(value, "workspace_root");
                    if (workspaceRoot is not null && !workspaceRoot.StartsWith("/", StringComparison.Ordinal) &&
                        !workspaceRoot.StartsWith("{home}", StringComparison.Ordinal))
                        src.Problem(value, "InvalidValue", "workspace_root must be an absolute path (it may use {home}, {user}, {uid}, {project})");
                    break;
                case "dockerfiles_root":
                    dockerfilesRoot = src.AsString(value, "dockerfiles_root");
                    if (dockerfilesRoot is not null && !dockerfilesRoot.StartsWith("/", StringComparison.Ordinal) &&
                        !dockerfilesRoot.StartsWith("{home}", StringComparison.Ordinal))
                        src.Problem(value, "InvalidValue", "dockerfiles_root must be an absolute path (it may use {home}, {user}, {uid})");
                    break;
                case "ulimits":
                    var ulm = src.AsMapping(value, "ulimits");
                    if (ulm is null) break;
                    foreach (var (uname, ukey, uval) in src.Entries(ulm))
                    {
                        if (Array.IndexOf(UlimitNames, uname) < 0)
                            src.Problem(ukey, "UnknownKey", $"unknown ulimit '{uname}'; known: {string.Join(", ", UlimitNames)}");
                        else if (YamlSource.TryNumber(uval, out var n) && n % 1 == 0 && n >= -1)
                            ulimits[uname] = (long)n;
                        else
                            src.Problem(uval, "WrongType", $"ulimit '{uname}' must be a whole number (-1 for unlimited)");
                    }
                    break;
                case "maintenance":
                    var mm = src.AsMapping(value, "maintenance");
                    if (mm is not null) maintenance = MaintenanceSettings.Read(src, mm);
                    break;
                case "allowed_capabilities":
                    capabilities = src.AsStringList(value, "allowed_capabilities") ?? capabilities;
                    break;
                case "allowed_mount_roots":
                    mountRoots = src.AsStringList(value, "allowed_mount_roots") ?? mountRoots;
                    break;
                default:
                    src.Problem(keyNode, "UnknownKey",
                        $"unknown key '{key}' at the top level; expected one of: {string.Join(", ", TopKeys)}");
                    break;
            }
        }

        foreach (var (group, node, user) in userGroupRefs)
            if (!groups.ContainsKey(group))
                src.Problem(node, "UnknownGroup", $"user '{user}' names group '{group}', which is not defined under groups");
        if (defaultGroup is not null && defaultGroupNode is not null && !groups.ContainsKey(defaultGroup))
            src.Problem(defaultGroupNode, "UnknownGroup", $"default_group '{defaultGroup}' is not defined under groups");

        return new ResourceLimitsConfig(src.File, defaults, groups, users, defaultGroup, admins, workspaceRoot, mountRoots, ulimits, dockerfilesRoot, capabilities, maintenance);
    }

    private static GroupAggregate? ReadAggregate(YamlSource src, YamlNode node, string group)
    {
        var map = src.AsMapping(node, $"aggregate of group '{group}'");
        if (map is null) return null;
        double? cpu = null;
        long? memory = null;
        foreach (var (key, keyNode, value) in src.Entries(map))
        {
            if (key == "cpu")
            {
                if (YamlSource.TryNumber(value, out var n) && n > 0) cpu = n;
                else src.Problem(value, "WrongType", $"'cpu' in the aggregate of group '{group}' must be a positive number of CPUs");
            }
            else if (key == "memory")
            {
                if (value is YamlScalarNode s && ByteSize.TryParse(s.Value, out var bytes) && bytes > 0) memory = bytes;
                else src.Problem(value, "WrongType", $"'memory' in the aggregate of group '{group}' must be a size such as 256G");
            }
            else src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' in the aggregate of group '{group}'; known keys: cpu, memory");
        }
        return new GroupAggregate(cpu, memory);
    }

    private static LimitSet ReadLimits(YamlSource src, YamlMappingNode map, string scope,
        Func<(string key, YamlNode value), bool> extra)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, keyNode, value) in src.Entries(map))
        {
            if (extra((key, value))) continue;
            if (!LimitField.ByKey.TryGetValue(key, out var field))
            {
                var hint = Suggest(key);
                src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' in {scope}" +
                    (hint is null ? $"; known keys: {string.Join(", ", LimitField.All.Select(f => f.Key))}" : $"; did you mean '{hint}'?"));
                continue;
            }
            if (ReadValue(src, field, value, scope, out var parsed)) values[key] = parsed;
        }
        return new LimitSet(values);
    }

    private static bool ReadValue(YamlSource src, LimitField field, YamlNode node, string scope, out object? value)
    {
        value = null;
        var where = $"'{field.Key}' in {scope}";
        if (YamlSource.IsNull(node) || (node is YamlScalarNode u && u.Value == "unlimited"))
        {
            // A hold cannot be "unlimited" (a stopped container would keep its GPU forever); use a number.
            if (field.Type == LimitValueType.Boolean || field.Key is LimitField.Priority or LimitField.GpuHoldAfterStopMinutes)
            {
                src.Problem(node, "WrongType", $"{where} cannot be unlimited");
                return false;
            }
            return true; // explicit unlimited
        }
        double number;
        switch (field.Type)
        {
            case LimitValueType.Boolean:
                if (YamlSource.TryBool(node, out var b)) { value = b; return true; }
                src.Problem(node, "WrongType", $"{where} must be true or false, not '{Text(node)}'");
                return false;
            case LimitValueType.Bytes:
                if (node is YamlScalarNode s && ByteSize.TryParse(s.Value, out var bytes)) { number = bytes; value = bytes; break; }
                src.Problem(node, "WrongType", $"{where} must be a size such as 32G, 512M or 1T (binary units), not '{Text(node)}'");
                return false;
            case LimitValueType.Integer:
                if (YamlSource.TryNumber(node, out number) && Math.Abs(number % 1) < 1e-12) { value = (long)number; break; }
                src.Problem(node, "WrongType", $"{where} must be a whole number, not '{Text(node)}'");
                return false;
            default:
                if (YamlSource.TryNumber(node, out number)) { value = number; break; }
                src.Problem(node, "WrongType", $"{where} must be a number, not '{Text(node)}'");
                return false;
        }
        if (number < 0 || (field.MinExclusive && number <= field.Min) || number < field.Min)
        {
            src.Problem(node, number < 0 ? "NegativeLimit" : "OutOfRange",
                $"{where} is {Text(node)}; it must be {(field.MinExclusive ? "greater than" : "at least")} {Bound(field, field.Min)}" +
                (field.Key == LimitField.MemoryLimit ? " (Docker refuses less)" : ""));
            value = null;
            return false;
        }
        if (field.Max is { } max && number > max)
        {
            src.Problem(node, "OutOfRange", $"{where} is {Text(node)}; it must be at most {Bound(field, max)}");
            value = null;
            return false;
        }
        return true;
    }

    private static string Bound(LimitField field, double value) =>
        field.Type == LimitValueType.Bytes ? ByteSize.Format((long)value) : value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    private static string Text(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : node.NodeType.ToString().ToLowerInvariant();

    // The original DS01 spellings, so admins moving over get a pointed hint.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["max_runtime_hrs"] = LimitField.MaxRuntimeHours, ["max_runtime_h"] = LimitField.MaxRuntimeHours,
        ["runtime"] = LimitField.MaxRuntimeHours, ["memory"] = LimitField.MemoryLimit,
        ["max_cpus"] = LimitField.CpuLimit, ["cpus"] = LimitField.CpuLimit,
        ["max_gpu_equivalents"] = LimitField.GpuLimit, ["max_gpu_slots_per_container"] = LimitField.MaxGpusPerContainer,
        ["max_containers_per_user"] = LimitField.MaxContainers, ["idle_timeout_h"] = LimitField.IdleTimeoutHours,
        ["gpu_hold_after_stop"] = LimitField.GpuHoldAfterStopMinutes, ["shm"] = LimitField.ShmSize,
    };

    private static string? Suggest(string key)
    {
        if (Aliases.TryGetValue(key, out var alias)) return alias;
        var lower = key.ToLowerInvariant().Replace('-', '_');
        return LimitField.ByKey.ContainsKey(lower) ? lower : null;
    }
}

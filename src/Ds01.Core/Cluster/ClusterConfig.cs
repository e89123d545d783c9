using System.Globalization;
using Ds01.Core.Configuration;
using YamlDotNet.RepresentationModel;

namespace Ds01.Core.Cluster;

/// <summary>Where containers run: on this server (local, the default) or as Slurm jobs on the node Slurm picks.</summary>
public enum ClusterBackend
{
    Local,
    Slurm,
}

/// <summary>One compute node and the Docker endpoint (its ds01d or dockerd) where its containers live.</summary>
public sealed record ClusterNode(string Name, string DockerHost);

/// <summary>
/// cluster.yaml (optional; absent means `backend: local`, so single servers are unchanged). Validated with
/// file/line/column problems like the other config files; a broken file is an error, never a silent local fallback.
/// </summary>
public sealed class ClusterConfig
{
    public const string FileName = "cluster.yaml";
    public const double DefaultStartWaitSeconds = 20;
    public const double DefaultPollSeconds = 0.5;

    public ClusterConfig(string file, ClusterBackend backend, string? partition, string? account, string? slurmConf, string? binDir,
        IReadOnlyList<ClusterNode> nodes, IReadOnlyList<(string Qos, int MinPriority)> qos, double startWaitSeconds, double pollSeconds)
    {
        File = file; Backend = backend; Partition = partition; Account = account; SlurmConf = slurmConf; BinDir = binDir;
        Nodes = nodes; Qos = qos; StartWaitSeconds = startWaitSeconds; PollSeconds = pollSeconds;
    }

    public string File { get; }
    public ClusterBackend Backend { get; }
    public bool IsSlurm => Backend == ClusterBackend.Slurm;
    public string? Partition { get; }
    /// <summary>The Slurm account jobs are charged to; null lets Slurm use the user's default account.</summary>
    public string? Account { get; }
    /// <summary>slurm.conf for the Slurm commands (SLURM_CONF); null: Slurm's own default or configless lookup.</summary>
    public string? SlurmConf { get; }
    /// <summary>Where sbatch, squeue, scancel, sacctmgr and sacct live; null: /usr/bin.</summary>
    public string? BinDir { get; }
    public IReadOnlyList<ClusterNode> Nodes { get; }
    /// <summary>QOS by the lowest Ds01 priority that gets it, highest first; empty: no --qos (Slurm's default).</summary>
    public IReadOnlyList<(string Qos, int MinPriority)> Qos { get; }
    /// <summary>Without -Wait, how long a new job may take to start before the request fails as queued.</summary>
    public double StartWaitSeconds { get; }
    public double PollSeconds { get; }

    public static ClusterConfig Default(string file) =>
        new(file, ClusterBackend.Local, null, null, null, null, Array.Empty<ClusterNode>(), Array.Empty<(string, int)>(),
            DefaultStartWaitSeconds, DefaultPollSeconds);

    public static ClusterConfig Load(string configDir)
    {
        var file = Path.Combine(configDir, FileName);
        return Posix.Stat(file) is not null ? YamlSource.ParseFile(file, Read) : Default(file);
    }

    public static ClusterConfig Parse(string file, string text) => YamlSource.Parse(file, text, Read);

    public static IReadOnlyList<ConfigProblem> Validate(string file, string text) => YamlSource.Validate(file, text, Read);

    public static IEnumerable<ConfigProblem> ValidateDirectory(string configDir)
    {
        var file = Path.Combine(configDir, FileName);
        return Posix.Stat(file) is not null ? YamlSource.ValidateFile(file, Read) : Array.Empty<ConfigProblem>();
    }

    /// <summary>The node by its Slurm name; an allocation on a node not in cluster.yaml is a config error.</summary>
    public ClusterNode Node(string name) =>
        Nodes.FirstOrDefault(n => n.Name == name)
        ?? throw new Ds01Exception(Ds01ErrorKind.InvalidData, "ClusterNodeNotConfigured",
            $"Slurm placed the job on node '{name}', which {File} does not list under slurm.nodes.", name,
            $"Add '{name}' with its docker_host to slurm.nodes in {File}, or restrict the partition to the listed nodes.");

    /// <summary>The QOS for a Ds01 priority: the entry with the highest min_priority at or below it.</summary>
    public string? QosFor(int priority) => Qos.Where(q => priority >= q.MinPriority).OrderByDescending(q => q.MinPriority).Select(q => q.Qos).FirstOrDefault();

    private static readonly string[] TopKeys = { "backend", "slurm" };
    private static readonly string[] SlurmKeys = { "partition", "account", "slurm_conf", "bin_dir", "nodes", "qos", "start_wait_seconds", "poll_seconds" };

    private static ClusterConfig? Read(YamlSource src)
    {
        var root = src.RootMapping();
        if (root is null) return null;
        var backend = ClusterBackend.Local;
        YamlNode? backendNode = null;
        YamlMappingNode? slurm = null;
        foreach (var (key, keyNode, value) in src.Entries(root))
        {
            switch (key)
            {
                case "backend":
                    backendNode = value;
                    var b = src.AsString(value, "backend");
                    if (b is null) break;
                    if (b.Equals("local", StringComparison.OrdinalIgnoreCase)) backend = ClusterBackend.Local;
                    else if (b.Equals("slurm", StringComparison.OrdinalIgnoreCase)) backend = ClusterBackend.Slurm;
                    else src.Problem(value, "InvalidValue", $"backend must be 'local' or 'slurm', not '{b}'");
                    break;
                case "slurm":
                    slurm = src.AsMapping(value, "slurm");
                    break;
                default:
                    src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' at the top level; expected one of: {string.Join(", ", TopKeys)}");
                    break;
            }
        }

        string? partition = null, account = null, slurmConf = null, binDir = null;
        var nodes = new List<ClusterNode>();
        var qos = new List<(string, int)>();
        double startWait = DefaultStartWaitSeconds, poll = DefaultPollSeconds;
        if (slurm is not null)
        {
            foreach (var (key, keyNode, value) in src.Entries(slurm))
            {
                switch (key)
                {
                    case "partition": partition = SlurmName(src, value, "partition"); break;
                    case "account": account = SlurmName(src, value, "account"); break;
                    case "slurm_conf": slurmConf = AbsolutePath(src, value, "slurm_conf"); break;
                    case "bin_dir": binDir = AbsolutePath(src, value, "bin_dir"); break;
                    case "nodes": ReadNodes(src, value, nodes); break;
                    case "qos": ReadQos(src, value, qos); break;
                    case "start_wait_seconds": startWait = Seconds(src, value, "start_wait_seconds", startWait); break;
                    case "poll_seconds": poll = Seconds(src, value, "poll_seconds", poll); break;
                    default:
                        src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' under slurm; expected one of: {string.Join(", ", SlurmKeys)}");
                        break;
                }
            }
        }
        if (backend == ClusterBackend.Slurm)
        {
            var at = (YamlNode?)slurm ?? backendNode ?? root;
            if (slurm is null) src.Problem(at, "MissingKey", "backend: slurm needs a slurm: section (partition, nodes)");
            else
            {
                if (partition is null && !slurm.Children.ContainsKey(new YamlScalarNode("partition")))
                    src.Problem(slurm, "MissingKey", "slurm needs a partition");
                if (nodes.Count == 0 && !slurm.Children.ContainsKey(new YamlScalarNode("nodes")))
                    src.Problem(slurm, "MissingKey", "slurm needs nodes (- { name: n1, docker_host: unix:///run/ds01/docker.sock })");
            }
        }
        return new ClusterConfig(src.File, backend, partition, account, slurmConf, binDir, nodes, qos, startWait, poll);
    }

    // Slurm names go into sbatch arguments as values; anything beyond this set is a typo or an attempt at more.
    private static bool IsSlurmName(string s) => s.Length is > 0 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    private static string? SlurmName(YamlSource src, YamlNode node, string what)
    {
        var s = src.AsString(node, what);
        if (s is null) return null;
        if (IsSlurmName(s)) return s;
        src.Problem(node, "InvalidValue", $"{what} '{s}' must be 1-64 letters, digits, '_', '-' or '.'");
        return null;
    }

    private static string? AbsolutePath(YamlSource src, YamlNode node, string what)
    {
        var s = src.AsString(node, what);
        if (s is null) return null;
        if (s.StartsWith('/')) return s;
        src.Problem(node, "InvalidValue", $"{what} must be an absolute path, not '{s}'");
        return null;
    }

    private static double Seconds(YamlSource src, YamlNode node, string what, double fallback)
    {
        if (!YamlSource.TryNumber(node, out var n))
        {
            src.Problem(node, "WrongType", $"{what} must be a number of seconds");
            return fallback;
        }
        if (n <= 0 || n > 3600)
        {
            src.Problem(node, "OutOfRange", $"{what} is {n.ToString(CultureInfo.InvariantCulture)}; it must be greater than 0 and at most 3600");
            return fallback;
        }
        return n;
    }

    private static void ReadNodes(YamlSource src, YamlNode node, List<ClusterNode> nodes)
    {
        if (node is not YamlSequenceNode seq)
        {
            src.Problem(node, "WrongType", "nodes must be a list of { name, docker_host }");
            return;
        }
        foreach (var item in seq.Children)
        {
            var map = src.AsMapping(item, "each entry of nodes");
            if (map is null) continue;
            string? name = null, host = null;
            foreach (var (key, keyNode, value) in src.Entries(map))
            {
                switch (key)
                {
                    case "name": name = SlurmName(src, value, "name of a node"); break;
                    case "docker_host":
                        host = src.AsString(value, "docker_host");
                        if (host is not null && !host.StartsWith("unix:///", StringComparison.Ordinal) && !host.StartsWith("tcp://", StringComparison.Ordinal))
                        {
                            src.Problem(value, "InvalidValue", $"docker_host must be unix:///path or tcp://host:port, not '{host}'");
                            host = null;
                        }
                        break;
                    default:
                        src.Problem(keyNode, "UnknownKey", $"unknown key '{key}' in a node; expected one of: name, docker_host");
                        break;
                }
            }
            if (!map.Children.ContainsKey(new YamlScalarNode("name"))) src.Problem(item, "MissingKey", "a node needs a name");
            if (!map.Children.ContainsKey(new YamlScalarNode("docker_host"))) src.Problem(item, "MissingKey", "a node needs a docker_host");
            if (name is null || host is null) continue;
            if (nodes.Any(n => n.Name == name)) src.Problem(item, "DuplicateNode", $"node '{name}' is listed twice");
            else nodes.Add(new ClusterNode(name, host));
        }
    }

    private static void ReadQos(YamlSource src, YamlNode node, List<(string, int)> qos)
    {
        var map = src.AsMapping(node, "qos (QOS name: lowest Ds01 priority that gets it)");
        if (map is null) return;
        foreach (var (key, keyNode, value) in src.Entries(map))
        {
            if (!IsSlurmName(key))
            {
                src.Problem(keyNode, "InvalidValue", $"QOS name '{key}' must be 1-64 letters, digits, '_', '-' or '.'");
                continue;
            }
            if (!YamlSource.TryNumber(value, out var p) || p % 1 != 0 || p < 0 || p > 100)
            {
                src.Problem(value, "OutOfRange", $"the minimum priority of QOS '{key}' must be a whole number from 0 to 100");
                continue;
            }
            qos.Add((key, (int)p));
        }
    }
}

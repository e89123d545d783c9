namespace Ds01.Core.Configuration;

/// <summary>Loads the config files from the config dir, with errors that say which path was looked for.</summary>
public sealed class ConfigStore
{
    private readonly Ds01Paths _paths;
    private ResourceLimitsConfig? _limits;
    private Gpu.GpuConfig? _gpu;
    private Cluster.ClusterConfig? _cluster;

    public ConfigStore(Ds01Paths paths) => _paths = paths;

    public Ds01Paths Paths => _paths;

    public ResourceLimitsConfig ResourceLimits => _limits ??= LoadResourceLimits();

    /// <summary>gpu-config.yaml (defaults when absent), read once per command.</summary>
    public Gpu.GpuConfig Gpu => _gpu ??= Ds01.Core.Gpu.GpuConfig.Load(_paths.ConfigDir);

    /// <summary>cluster.yaml (backend: local when absent), read once per command.</summary>
    public Cluster.ClusterConfig Cluster => _cluster ??= Ds01.Core.Cluster.ClusterConfig.Load(_paths.ConfigDir);

    private ResourceLimitsConfig LoadResourceLimits()
    {
        var file = RequireFile(_paths.ResourceLimitsFile);
        return ResourceLimitsConfig.ParseFile(file);
    }

    public string RequireFile(string file)
    {
        if (!Directory.Exists(_paths.ConfigDir))
            throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "ConfigDirectoryNotFound",
                $"The Ds01 config directory '{_paths.ConfigDir}' does not exist.", _paths.ConfigDir,
                $"Create it with a resource-limits.yaml (see config/ in the Ds01 sources), or point ${Ds01Paths.ConfigDirVariable} at the directory that holds it.");
        // A directory or FIFO in the file's place exists: reading it gives a specific InvalidData error instead.
        if (Posix.Stat(file) is null)
            throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "ConfigFileNotFound",
                $"The config file '{file}' does not exist.", file,
                $"Copy config/{Path.GetFileName(file)} from the Ds01 sources into '{_paths.ConfigDir}', or set ${Ds01Paths.ConfigDirVariable}.");
        return file;
    }

    /// <summary>Every problem in every config file that exists in the directory (or the missing-dir problem).</summary>
    public static IReadOnlyList<ConfigProblem> Validate(string configDir)
    {
        var problems = new List<ConfigProblem>();
        if (!Directory.Exists(configDir))
        {
            problems.Add(new ConfigProblem(configDir, 0, 0, "ConfigDirectoryNotFound",
                $"the config directory does not exist; set ${Ds01Paths.ConfigDirVariable} or create it"));
            return problems;
        }
        var limits = Path.Combine(configDir, "resource-limits.yaml");
        if (Posix.Stat(limits) is null)
            problems.Add(new ConfigProblem(limits, 0, 0, "ConfigFileNotFound", "resource-limits.yaml is missing"));
        else
            problems.AddRange(ResourceLimitsConfig.ValidateFile(limits));
        problems.AddRange(Ds01.Core.Gpu.GpuConfig.ValidateDirectory(configDir));
        problems.AddRange(Ds01.Core.Cluster.ClusterConfig.ValidateDirectory(configDir));
        var catalog = Path.Combine(configDir, "ml_images.repo");
        if (Posix.Stat(catalog) is not null)
        {
            var text = YamlSource.ReadFile(catalog, problems);
            if (text is not null) problems.AddRange(Images.ImageCatalog.Validate(catalog, text));
        }
        return problems;
    }
}

using Ds01.Core.Gpu;

namespace Ds01.Core.Images;

/// <summary>
/// Which AIME catalog and architecture this server uses: gpu-config.yaml's image_catalog, else ml_images.repo in
/// the config dir, else an AIME install's; gpu-config.yaml's architecture, else detected from the GPU models.
/// </summary>
public sealed class FrameworkCatalog
{
    private readonly Ds01Session _session;

    private readonly Lazy<string?> _architecture;

    public FrameworkCatalog(Ds01Session session)
    {
        _session = session;
        // Detection may run nvidia-smi: once per command, and only when asked.
        _architecture = new Lazy<string?>(DetectArchitecture);
    }

    public string? CatalogFile
    {
        get
        {
            var configured = _session.Config.Gpu.ImageCatalog;
            if (configured is not null) return configured;
            if (File.Exists(_session.Paths.ImageCatalogFile)) return _session.Paths.ImageCatalogFile;
            return File.Exists(ImageCatalog.DefaultPath) ? ImageCatalog.DefaultPath : null;
        }
    }

    /// <summary>The catalog; a missing file is NotFound naming where it was looked for.</summary>
    public ImageCatalog Load() => ImageCatalog.Load(CatalogFile ?? _session.Paths.ImageCatalogFile);

    /// <summary>Configured, else detected from the GPUs; null when neither is possible (no GPU, no nvidia-smi).</summary>
    public string? Architecture => _architecture.Value;

    private string? DetectArchitecture()
    {
        var config = _session.Config.Gpu;
        if (config.Architecture is not null) return config.Architecture;
        try
        {
            var models = new GpuInventory().Load(config).Select(s => (string?)s.Model).Distinct().ToList();
            return models.Count == 0 ? null : ArchitectureDetector.DetectAll(models).FirstOrDefault();
        }
        catch (Ds01Exception e) when (e.Kind is Ds01ErrorKind.NotInstalled or Ds01ErrorKind.InvalidData or Ds01ErrorKind.OperationTimeout or Ds01ErrorKind.ResourceUnavailable)
        {
            return null; // a CPU-only machine: every architecture is listed
        }
    }
}

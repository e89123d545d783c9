using Ds01.Core.Gpu;

namespace Ds01.Core.Images;

/// <summary>
/// Which AIME catalog and architecture this server uses: gpu-config.yaml's image_catalog, else ml_images.repo in
/// the config dir, else an AIME install's; gpu-config.yaml's architecture, else detected from the GPU models.
/// </summary>
public sealed class FrameworkCatalog
{
    private readonly Ds01Session _session;

    public FrameworkCatalog(Ds01Session session) => _session = session;

    public string? CatalogFile
    {
        get
        {
            var configured = GpuConfig.Load(_session.Paths.ConfigDir).ImageCatalog;
            if (configured is not null) return configured;
            if (File.Exists(_session.Paths.ImageCatalogFile)) return _session.Paths.ImageCatalogFile;
            return File.Exists(ImageCatalog.DefaultPath) ? ImageCatalog.DefaultPath : null;
        }
    }

    /// <summary>The catalog; a missing file is NotFound naming where it was looked for.</summary>
    public ImageCatalog Load() => ImageCatalog.Load(CatalogFile ?? _session.Paths.ImageCatalogFile);

    /// <summary>Configured, else detected from the GPUs; null when neither is possible (no GPU, no nvidia-smi).</summary>
    public string? Architecture
    {
        get
        {
            var config = GpuConfig.Load(_session.Paths.ConfigDir);
            if (config.Architecture is not null) return config.Architecture;
            try
            {
                var models = new GpuInventory().Load(config).Select(s => (string?)s.Model).Distinct().ToList();
                return models.Count == 0 ? null : ArchitectureDetector.DetectAll(models).FirstOrDefault();
            }
            catch (Ds01Exception)
            {
                return null; // a CPU-only machine: every architecture is listed
            }
        }
    }
}

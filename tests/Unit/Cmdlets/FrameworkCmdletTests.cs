using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Unit.Cmdlets;

[Collection("engine")]
public class FrameworkCmdletTests
{
    private static string ShippedCatalog => Path.Combine(RepoPaths.Root, "config", "ml_images.repo");

    [Fact]
    public void Lists_the_catalogs_frameworks_for_the_configured_architecture_case_insensitively()
    {
        using var cfg = new TempConfig("defaults: {}\n");
        File.Copy(ShippedCatalog, Path.Combine(cfg.ConfigDir, "ml_images.repo"));
        cfg.Write("gpu-config.yaml", "architecture: CUDA_AMPERE\ngpus: []\n");
        var r = PsEngine.Run("Get-Ds01Framework pytorch", cfg.Env);
        Assert.Empty(r.Errors);
        var found = r.Objects<Ds01Framework>().ToList();
        Assert.NotEmpty(found);
        Assert.All(found, f => Assert.Equal("Pytorch", f.Framework));
        Assert.All(found, f => Assert.Contains("CUDA_AMPERE", f.Architectures));

        var all = PsEngine.Run("Get-Ds01Framework -Architecture '*'", cfg.Env).Objects<Ds01Framework>().ToList();
        Assert.True(all.Count > found.Count);
        Assert.Contains(all, f => f.Framework == "Tensorflow");
    }

    [Fact]
    public void A_catalog_named_in_gpu_config_wins_and_a_missing_one_is_ObjectNotFound()
    {
        using var cfg = new TempConfig("defaults: {}\n");
        var aime = cfg.Write("aime.repo", "Mxnet, 1.8.0-nvidia, CUDA_AMPERE, aimehub/mxnet-1.8.0-nvidia-20.12\n");
        cfg.Write("gpu-config.yaml", $"image_catalog: {aime}\narchitecture: CUDA_AMPERE\n");
        var f = Assert.Single(PsEngine.Run("Get-Ds01Framework", cfg.Env).Objects<Ds01Framework>());
        Assert.Equal(("Mxnet", "aimehub/mxnet-1.8.0-nvidia-20.12"), (f.Framework, f.Image));

        cfg.Write("gpu-config.yaml", "image_catalog: /nonexistent/ml_images.repo\n");
        var e = PsEngine.Run("Get-Ds01Framework", cfg.Env).SingleError();
        Assert.Equal(System.Management.Automation.ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.Contains("/nonexistent/ml_images.repo", e.Exception.Message);
    }
}

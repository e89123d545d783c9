using Ds01.Core;
using Ds01.Core.Configuration;
using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Unit.Images;

public class ImageCatalogTests
{
    // REFERENCE.md section 1, verbatim rows of both formats.
    private const string V1 = """
        # v1 (aime-ml-containers/ml_images.repo)
        Tensorflow, 2.16.1, CUDA_ADA, aimehub/tensorflow-2.16.1-cuda12.3
        Tensorflow, 2.4.0, CUDA_AMPERE, aimehub/tensorflow-2.4.0-cuda
        Tensorflow, 2.4.0, CUDA, aimehub/tensorflow-2.4.0-cuda
        Pytorch, 2.5.1, CUDA_ADA, aimehub/pytorch-2.5.1-aime-cuda12.1.1
        Mxnet, 1.8.0-nvidia, CUDA_AMPERE, aimehub/mxnet-1.8.0-nvidia-20.12
        """;

    private const string V2 = """
        # v2 (aime-mlc/ml_images.repo)

        Pytorch, 2.9.1, [CUDA_BLACKWELL], aimehub/pytorch-2.9.1-cuda12.8.1
        Pytorch, 2.8.0-aime, [CUDA_ADA], aimehub/pytorch-2.8.0-aime-cuda12.6.3
        Pytorch, 2.4.0, [CUDA_AMPERE], aimehub/pytorch-2.4.0-cuda11.8
        Pytorch, 2.2.0, [ROCM5], aimehub/pytorch-2.2.0-rocm5.7
        Tensorflow, 2.12.0, [CUDA_ADA;CUDA_AMPERE], aimehub/tensorflow-2.12.0-cuda11.8
        """;

    private static string ShippedCatalogPath => Path.Combine(RepoPaths.Root, "config", "ml_images.repo");

    [Fact]
    public void V1_rows_for_the_same_image_merge_their_architectures()
    {
        var catalog = ImageCatalog.Parse("v1.repo", V1);

        Assert.Equal(4, catalog.Entries.Count);
        var tf240 = Assert.Single(catalog.Find("Tensorflow", "2.4.0", null));
        Assert.Equal(["CUDA_AMPERE", "CUDA"], tf240.GetArchitectures());
        Assert.Equal("aimehub/tensorflow-2.4.0-cuda", tf240.Image);
    }

    [Fact]
    public void V1_fifth_reserved_column_is_ignored()
    {
        var catalog = ImageCatalog.Parse("v1.repo", "Pytorch, 2.5.1, CUDA_ADA, aimehub/pytorch-2.5.1-aime-cuda12.1.1, reserved\n");

        var entry = Assert.Single(catalog.Entries);
        Assert.Equal("aimehub/pytorch-2.5.1-aime-cuda12.1.1", entry.Image);
        Assert.Equal(["CUDA_ADA"], entry.GetArchitectures());
    }

    [Fact]
    public void V2_bracket_lists_give_every_architecture()
    {
        var catalog = ImageCatalog.Parse("v2.repo", V2);

        Assert.Equal(5, catalog.Entries.Count);
        var tf = Assert.Single(catalog.Find("Tensorflow", "2.12.0", null));
        Assert.Equal(["CUDA_ADA", "CUDA_AMPERE"], tf.GetArchitectures());
        Assert.Equal("aimehub/tensorflow-2.12.0-cuda11.8", Assert.Single(catalog.Find(null, null, "CUDA_AMPERE"), e => e.Framework == "Tensorflow").Image);
        Assert.Equal("aimehub/pytorch-2.2.0-rocm5.7", Assert.Single(catalog.Find(null, null, "ROCM5")).Image);
    }

    [Fact]
    public void Lookup_ignores_framework_and_architecture_case_but_not_version()
    {
        var catalog = ImageCatalog.Parse("v2.repo", V2);

        Assert.Single(catalog.Find("pytorch", "2.8.0-aime", "cuda_ada"));
        Assert.Single(catalog.Find("PYTORCH", "2.8.0-aime", null));
        Assert.Empty(catalog.Find("pytorch", "2.8.0", null));
        Assert.Equal(4, catalog.Find("pytorch", null, null).Count);
    }

    [Fact]
    public void Resolve_exact_match_has_no_warning()
    {
        var catalog = ImageCatalog.Parse("v1.repo", V1);

        var r = catalog.Resolve("pytorch", "2.5.1", "CUDA_ADA");

        Assert.Equal("aimehub/pytorch-2.5.1-aime-cuda12.1.1", r.Image);
        Assert.Equal("Pytorch", r.Framework);
        Assert.Null(r.Warning);
    }

    [Fact]
    public void Resolve_missing_version_takes_the_first_row_for_framework_and_architecture_with_the_seeds_warning()
    {
        var catalog = ImageCatalog.Parse("v1.repo", V1 + "\nTensorflow, 2.15.0, CUDA_ADA, aimehub/tensorflow-2.15.0-cuda12.3\n");

        var r = catalog.Resolve("tensorflow", "9.9.9", "CUDA_ADA");

        Assert.Equal("aimehub/tensorflow-2.16.1-cuda12.3", r.Image);
        Assert.Equal("2.16.1", r.Version);
        Assert.Equal("Version 9.9.9 not found, using: aimehub/tensorflow-2.16.1-cuda12.3", r.Warning);
    }

    [Fact]
    public void Resolve_fallback_follows_file_order_per_architecture_not_merged_order()
    {
        // The merged entry for 1.0 sits on line 1, but its CUDA_AMPERE row is line 3: line 2 is first for that arch.
        const string text = """
            Pytorch, 1.0, CUDA_ADA, aimehub/pytorch-1.0
            Pytorch, 2.0, CUDA_AMPERE, aimehub/pytorch-2.0
            Pytorch, 1.0, CUDA_AMPERE, aimehub/pytorch-1.0
            """;
        var catalog = ImageCatalog.Parse("order.repo", text);

        Assert.Equal("aimehub/pytorch-2.0", catalog.Resolve("Pytorch", "3.0", "CUDA_AMPERE").Image);
        Assert.Equal(["CUDA_ADA", "CUDA_AMPERE"], Assert.Single(catalog.Find("Pytorch", "1.0", null)).GetArchitectures());
    }

    [Fact]
    public void Resolve_without_version_takes_the_first_row_silently()
    {
        var catalog = ImageCatalog.Parse("v2.repo", V2);

        var r = catalog.Resolve("Pytorch", null, "CUDA_ADA");

        Assert.Equal("aimehub/pytorch-2.8.0-aime-cuda12.6.3", r.Image);
        Assert.Null(r.Warning);
    }

    [Fact]
    public void Resolve_unknown_framework_names_it_and_lists_what_the_architecture_offers()
    {
        var catalog = ImageCatalog.Parse("v1.repo", V1);

        var e = Assert.Throws<Ds01Exception>(() => catalog.Resolve("jax", "0.4", "CUDA_AMPERE"));

        Assert.Equal(Ds01ErrorKind.NotFound, e.Kind);
        Assert.Equal("FrameworkNotFound", e.ErrorId);
        Assert.Contains("Framework 'jax' not found in AIME catalog", e.Message);
        Assert.Contains("Available for CUDA_AMPERE: Tensorflow, Mxnet.", e.Message);
    }

    [Fact]
    public void Resolve_framework_missing_for_that_architecture_is_not_found()
    {
        var catalog = ImageCatalog.Parse("v1.repo", V1);

        var e = Assert.Throws<Ds01Exception>(() => catalog.Resolve("Mxnet", null, "CUDA_ADA"));

        Assert.Equal("FrameworkNotFound", e.ErrorId);
        Assert.Contains("Available for CUDA_ADA: Tensorflow, Pytorch.", e.Message);
    }

    [Theory]
    [InlineData("Pytorch, 2.5.1, CUDA_ADA", 1, 1, "CatalogColumnCount")]
    [InlineData("Pytorch, 2.5.1, CUDA_ADA, aimehub/x, reserved, extra", 1, 48, "CatalogColumnCount")]
    [InlineData("Pytorch, , CUDA_ADA, aimehub/x", 1, 10, "CatalogVersion")]
    [InlineData("Pytorch, 2.5.1, [CUDA_ADA, aimehub/x", 1, 17, "CatalogArchitecture")]
    [InlineData("Pytorch, 2.5.1, [CUDA_ADA;;CUDA_AMPERE], aimehub/x", 1, 27, "CatalogArchitecture")]
    [InlineData("Pytorch, 2.5.1, [CUDA_ADA; BAD-ARCH], aimehub/x", 1, 28, "CatalogArchitecture")]
    [InlineData("Pytorch, 2.5.1, CUDA_ADA, Aimehub/Bad Image", 1, 27, "CatalogImage")]
    [InlineData("# header\n\n  Py torch, 2.5.1, CUDA_ADA, aimehub/x", 3, 3, "CatalogFramework")]
    public void Malformed_lines_are_reported_at_their_line_and_column(string text, int line, int column, string code)
    {
        var problem = Assert.Single(ImageCatalog.Validate("bad.repo", text));

        Assert.Equal("bad.repo", problem.File);
        Assert.Equal(line, problem.Line);
        Assert.Equal(column, problem.Column);
        Assert.Equal(code, problem.Code);
    }

    [Fact]
    public void Parse_throws_ConfigException_with_every_problem()
    {
        const string text = "Pytorch, 2.5.1, CUDA_ADA, aimehub/ok\nPytorch, 2.5.1\nTensorflow, 2.4.0, [CUDA, aimehub/x\n";

        var e = Assert.Throws<ConfigException>(() => ImageCatalog.Parse("bad.repo", text));

        Assert.Equal([2, 3], e.Problems.Select(p => p.Line));
        Assert.Contains("bad.repo:2:1:", e.Message);
    }

    [Fact]
    public void Windows_line_endings_and_a_byte_order_mark_are_accepted()
    {
        var catalog = ImageCatalog.Parse("crlf.repo", "\uFEFFPytorch, 2.5.1, CUDA_ADA, aimehub/a\r\nPytorch, 2.4.0, [CUDA_AMPERE], aimehub/b\r\n");

        Assert.Equal(["aimehub/a", "aimehub/b"], catalog.Entries.Select(e => e.Image));
    }

    [Fact]
    public void Shipped_catalog_parses_and_serves_the_architectures_Ds01_detects()
    {
        var catalog = ImageCatalog.Load(ShippedCatalogPath);

        Assert.Empty(ImageCatalog.Validate(ShippedCatalogPath, File.ReadAllText(ShippedCatalogPath)));
        foreach (var arch in new[] { "CUDA_ADA", "CUDA_AMPERE", "CUDA_BLACKWELL" })
        {
            Assert.NotEmpty(catalog.Find("Pytorch", null, arch));
            Assert.Contains("Pytorch", catalog.FrameworksFor(arch));
        }
        Assert.NotEmpty(catalog.Find("Tensorflow", null, "CUDA_ADA"));
        Assert.NotEmpty(catalog.Find("Tensorflow", null, "CUDA_AMPERE"));
        // The seeds' own example resolves exactly.
        Assert.Equal("aimehub/pytorch-2.5.1-aime-cuda12.1.1", catalog.Resolve("pytorch", "2.5.1", "CUDA_ADA").Image);
        Assert.Equal(["CUDA_ADA", "CUDA_AMPERE"], Assert.Single(catalog.Find("Tensorflow", "2.12.0", null)).GetArchitectures());
    }

    [Fact]
    public void Load_of_a_missing_file_is_a_not_found_error()
    {
        var e = Assert.Throws<Ds01Exception>(() => ImageCatalog.Load("/nonexistent/ml_images.repo"));

        Assert.Equal("ImageCatalogNotFound", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.NotFound, e.Kind);
    }

    [Theory]
    [InlineData("pytorch", "2.5.1", "pytorch/pytorch:2.5.1-cuda11.8-cudnn9-runtime")]
    [InlineData("Pytorch", null, "pytorch/pytorch:2.5.1-cuda11.8-cudnn9-runtime")]
    [InlineData("tensorflow", "2.14.0", "tensorflow/tensorflow:2.14.0-gpu")]
    [InlineData("tf", null, "tensorflow/tensorflow:2.14.0-gpu")]
    [InlineData("Tensorflow", "2.16.1", "tensorflow/tensorflow:2.16.1-gpu")]
    public void Docker_Hub_fallback_builds_the_seeds_references(string framework, string? version, string expected) =>
        Assert.Equal(expected, ImageCatalog.DockerHubFallback(framework, version));

    [Fact]
    public void Docker_Hub_fallback_refuses_unknown_frameworks_and_unsafe_versions()
    {
        Assert.Equal("FrameworkNotFound", Assert.Throws<Ds01Exception>(() => ImageCatalog.DockerHubFallback("jax", null)).ErrorId);
        Assert.Equal("InvalidFrameworkVersion",
            Assert.Throws<Ds01Exception>(() => ImageCatalog.DockerHubFallback("pytorch", "2.5.1 AS x\nRUN id")).ErrorId);
    }
}

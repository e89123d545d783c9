using System.Management.Automation;
using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>image-pull and container-exit against the real dockerd, where no registry can be reached.</summary>
[Collection("engine")]
public class ImagePullTests
{
    [Fact]
    public void An_image_that_is_here_is_not_pulled_and_is_returned()
    {
        using var bed = new DockerTestBed();

        var r = bed.Run($"Import-Ds01Image -Image {DockerTestBed.BusyboxImage}");

        Assert.Empty(r.Errors);
        Assert.Equal(DockerTestBed.BusyboxImage, Assert.Single(r.Objects<Ds01Image>()).Name);
        Assert.DoesNotContain("\"image.pull\"", File.Exists(bed.Config.EventLogFile) ? File.ReadAllText(bed.Config.EventLogFile) : "");
    }

    [Fact]
    public void An_unreachable_registry_is_a_specific_error_naming_the_image()
    {
        using var bed = new DockerTestBed();
        var name = $"ds01-no-such-registry.invalid/{bed.Name("img")}:1";

        var e = bed.Run($"Import-Ds01Image -Image {name}").SingleError();

        Assert.Equal("ImagePullFailed", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);
        Assert.Contains(name, e.Exception.Message);
        Assert.Contains("docker load", e.ErrorDetails.RecommendedAction);
        Assert.Null(bed.Engine.InspectImageAsync(name, CancellationToken.None).GetAwaiter().GetResult());
    }

    [Fact]
    public void A_framework_resolves_in_the_AIME_catalog_before_the_pull()
    {
        using var bed = new DockerTestBed();
        bed.Config.Write("ml_images.repo", File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "ml_images.repo")));
        bed.Config.Write("gpu-config.yaml", "architecture: CUDA_ADA\n");

        var e = bed.Run("Import-Ds01Image pytorch").SingleError();

        Assert.Equal("ImagePullFailed", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("aimehub/pytorch", e.Exception.Message);
    }

    [Fact]
    public void Project_images_are_built_not_pulled()
    {
        using var bed = new DockerTestBed();

        var e = bed.Run($"Import-Ds01Image -Image ds01-{bed.Uid}/thesis:latest").SingleError();

        Assert.Equal("ProjectImageNotPullable", e.FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Container_exit_explains_leaving_without_stopping_and_changes_nothing()
    {
        using var bed = new DockerTestBed();

        var r = Ds01Cli.RunWith(bed.Env, null, "container-exit");

        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("does not stop the container", r.Out);
        Assert.Contains("Ctrl+P, Ctrl+Q", r.Out);
        Assert.Contains("Stop-Ds01Container", r.Out);
    }
}

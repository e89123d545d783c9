using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Unit.Images;

public class ArchitectureDetectorTests
{
    [Theory]
    [InlineData("NVIDIA A100-SXM4-80GB", "CUDA_AMPERE")]
    [InlineData("NVIDIA A100 80GB PCIe", "CUDA_AMPERE")]
    [InlineData("NVIDIA A30", "CUDA_AMPERE")]
    [InlineData("NVIDIA A10", "CUDA_AMPERE")]
    [InlineData("NVIDIA RTX A6000", "CUDA_AMPERE")]
    [InlineData("NVIDIA GeForce RTX 3090", "CUDA_AMPERE")]
    [InlineData("NVIDIA H100 80GB HBM3", "CUDA_ADA")]
    [InlineData("NVIDIA H200", "CUDA_ADA")]
    [InlineData("NVIDIA GH200 480GB", "CUDA_ADA")]
    [InlineData("NVIDIA L40S", "CUDA_ADA")]
    [InlineData("NVIDIA L4", "CUDA_ADA")]
    [InlineData("NVIDIA GeForce RTX 4090", "CUDA_ADA")]
    [InlineData("NVIDIA RTX 6000 Ada Generation", "CUDA_ADA")]
    [InlineData("NVIDIA B200", "CUDA_BLACKWELL")]
    [InlineData("NVIDIA B100", "CUDA_BLACKWELL")]
    [InlineData("NVIDIA GeForce RTX 5090", "CUDA_BLACKWELL")]
    [InlineData("NVIDIA RTX PRO 6000 Blackwell Server Edition", "CUDA_BLACKWELL")]
    [InlineData("Tesla V100-SXM2-32GB", "CUDA")]
    [InlineData("Tesla T4", "CUDA")]
    [InlineData("Quadro RTX 6000", "CUDA")]
    [InlineData("", "CUDA")]
    [InlineData(null, "CUDA")]
    public void Maps_model_names_to_AIME_tokens(string? model, string expected) =>
        Assert.Equal(expected, ArchitectureDetector.Detect(model));

    [Fact]
    public void Mixed_machines_report_each_architecture_once_in_order()
    {
        var archs = ArchitectureDetector.DetectAll(["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB", "NVIDIA H100 PCIe"]);

        Assert.Equal(["CUDA_ADA", "CUDA_AMPERE"], archs);
    }
}

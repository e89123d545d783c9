using Ds01.Core.Configuration;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

public class GpuConfigTests
{
    private const string File = "/etc/ds01/gpu-config.yaml";

    [Fact]
    public void An_empty_file_is_ConfigFileEmpty_and_braces_give_the_defaults()
    {
        var e = Assert.Throws<ConfigException>(() => GpuConfig.Parse(File, "\n# to do\n"));
        Assert.Equal(("ConfigFileEmpty", (object?)File), (e.ErrorId, e.Target));
        var c = GpuConfig.Parse(File, "{}\n");
        Assert.Equal(GpuAttachMode.Nvidia, c.Attach);
        Assert.Equal(300, c.LockTimeoutSeconds);
        Assert.Null(c.Gpus);
        Assert.Null(c.Architecture);
    }

    [Fact]
    public void Reads_every_key_and_a_static_list_with_mig()
    {
        var c = GpuConfig.Parse(File, """
            attach: simulated
            architecture: CUDA_ADA
            image_catalog: /etc/ds01/ml_images.repo
            lock_timeout_seconds: 2.5
            gpus:
              - index: 0
                uuid: GPU-aaa
                model: NVIDIA H100 80GB HBM3
                memory_mib: 81559
              - index: 1
                uuid: GPU-bbb
                model: NVIDIA A100-SXM4-80GB
                mig_instances:
                  - {device: 0, profile: 3g.40gb, uuid: MIG-1}
                  - {device: 1, profile: 1g.10gb, uuid: MIG-2}
            """);
        Assert.Equal(GpuAttachMode.Simulated, c.Attach);
        Assert.Equal("CUDA_ADA", c.Architecture);
        Assert.Equal("/etc/ds01/ml_images.repo", c.ImageCatalog);
        Assert.Equal(TimeSpan.FromSeconds(2.5), c.LockTimeout);
        Assert.Equal(2, c.Gpus!.Count);
        Assert.Equal(81559L, c.Gpus[0].MemoryMiB);
        Assert.False(c.Gpus[0].IsMig);
        Assert.Equal(new[] { "3g.40gb", "1g.10gb" }, c.Gpus[1].MigInstances.Select(m => m.Profile));
    }

    [Fact]
    public void Empty_gpu_list_means_no_gpus_not_ask_nvidia_smi()
    {
        var c = GpuConfig.Parse(File, "gpus: []\n");
        Assert.NotNull(c.Gpus);
        Assert.Empty(c.Gpus!);
    }

    [Fact]
    public void Unknown_keys_and_wrong_types_are_problems_with_line_and_column()
    {
        var problems = GpuConfig.Validate(File, """
            attach: cuda
            lock_timeout_seconds: soon
            gpu: []
            gpus:
              - index: zero
                uuid: GPU-aaa
                model: X
                colour: green
            """);
        Assert.Contains(problems, p => p.Code == "InvalidValue" && p.Line == 1 && p.Column == 9 && p.Message.Contains("'cuda'"));
        Assert.Contains(problems, p => p.Code == "WrongType" && p.Line == 2 && p.Message.Contains("lock_timeout_seconds"));
        Assert.Contains(problems, p => p.Code == "UnknownKey" && p.Line == 3 && p.Column == 1 && p.Message.Contains("'gpu'"));
        Assert.Contains(problems, p => p.Code == "WrongType" && p.Line == 5 && p.Column == 12);
        Assert.Contains(problems, p => p.Code == "UnknownKey" && p.Line == 8 && p.Message.Contains("'colour'"));
        Assert.All(problems, p => Assert.Equal(File, p.File));
    }

    [Fact]
    public void Parse_throws_every_problem_at_once()
    {
        var e = Assert.Throws<ConfigException>(() => GpuConfig.Parse(File, "attach: x\nlock_timeout_seconds: -1\n"));
        Assert.Equal(2, e.Problems.Count);
        Assert.Contains("gpu-config.yaml:2:23", e.Message);
    }

    [Fact]
    public void Static_list_mistakes_are_caught()
    {
        var problems = GpuConfig.Validate(File, """
            gpus:
              - {index: 0, uuid: GPU-a, model: X}
              - {index: 0, uuid: GPU-a}
              - index: 2
                uuid: GPU-c
                model: A100
                mig_instances:
                  - {device: 0, profile: 4g.40gb, uuid: MIG-1}
                  - {device: 0, profile: 4g.40gb, uuid: MIG-2}
                  - {device: 2, profile: big, uuid: MIG-3}
                  - {device: 3, profile: 1g.10gb}
            """);
        var codes = problems.Select(p => p.Code).ToList();
        Assert.Equal(2, codes.Count(c => c == "DuplicateGpu"));
        Assert.Contains(problems, p => p.Code == "MissingKey" && p.Message.Contains("model") && p.Line == 3);
        Assert.Contains(problems, p => p.Code == "DuplicateMigDevice" && p.Line == 9);
        Assert.Contains(problems, p => p.Code == "InvalidValue" && p.Message.Contains("'big'"));
        Assert.Contains(problems, p => p.Code == "MissingKey" && p.Message.Contains("uuid") && p.Line == 11);
        Assert.Contains(problems, p => p.Code == "InvalidValue" && p.Message.Contains("9 compute slices"));
    }

    [Fact]
    public void Config_validation_reports_gpu_config_of_a_directory_and_ignores_its_absence()
    {
        var dir = Directory.CreateTempSubdirectory("ds01-gpucfg-").FullName;
        try
        {
            Assert.Empty(GpuConfig.ValidateDirectory(dir));
            System.IO.File.WriteAllText(Path.Combine(dir, GpuConfig.FileName), "attach: maybe\n");
            var problems = ConfigStore.Validate(dir);
            Assert.Contains(problems, p => p.File.EndsWith(GpuConfig.FileName) && p.Code == "InvalidValue" && p.Line == 1);
            Assert.Equal(GpuAttachMode.Nvidia, GpuConfig.Load(Path.Combine(dir, "missing")).Attach);
            Assert.Throws<ConfigException>(() => GpuConfig.Load(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}

using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Configuration;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>Hostile or broken config input: each is a specific InvalidData problem with file, line and column, and nothing crashes.</summary>
public class ConfigInputTests
{
    private static ConfigProblem Single(string yaml, string code)
    {
        var problems = ResourceLimitsConfig.Validate("/etc/ds01/resource-limits.yaml", yaml);
        var p = Assert.Single(problems);
        Assert.Equal(code, p.Code);
        Assert.Equal("/etc/ds01/resource-limits.yaml", p.File);
        return p;
    }

    [Fact]
    public void A_20_digit_count_is_out_of_range_not_read_as_a_negative_limit()
    {
        var p = Single("defaults:\n  max_containers: 99999999999999999999\n", "OutOfRange");
        Assert.Equal((2, 19), (p.Line, p.Column));
        Assert.Contains("at most 100000", p.Message);
        var e = Assert.Throws<ConfigException>(() => ResourceLimitsConfig.Parse("f.yaml", "defaults:\n  pids_limit: 99999999999999999999\n"));
        Assert.Equal(Ds01ErrorKind.InvalidData, e.Kind);
    }

    [Fact]
    public void Memory_below_dockers_6_MiB_minimum_is_refused_at_validation()
    {
        var p = Single("defaults:\n  memory_limit: 4M\n", "OutOfRange");
        Assert.Equal((2, 17), (p.Line, p.Column));
        Assert.Contains("at least 6MiB", p.Message);
        Assert.Empty(ResourceLimitsConfig.Validate("f.yaml", "defaults:\n  memory_limit: 6M\n"));
    }

    [Theory]
    [InlineData("gpu_hold_after_stop_minutes: 1e12")]
    [InlineData("gpu_hold_after_stop_minutes: 600000")]
    [InlineData("max_runtime_hours: 1e12")]
    [InlineData("cpu_limit: 1e300")]
    [InlineData("gpu_limit: 1e15")]
    public void Absurd_numbers_are_out_of_range(string line)
    {
        var p = Single($"defaults:\n  {line}\n", "OutOfRange");
        Assert.Equal(2, p.Line);
    }

    [Fact]
    public void A_second_yaml_document_is_an_error_at_its_separator_not_silently_ignored()
    {
        var p = Single("defaults:\n  gpu_limit: 1\n---\nadmins: [mallory]\n", "MultipleDocuments");
        Assert.Equal((3, 1), (p.Line, p.Column));
        var gpu = GpuConfig.Validate("gpu-config.yaml", "attach: simulated\n---\ngpus: []\n");
        Assert.Equal("MultipleDocuments", Assert.Single(gpu).Code);
    }

    [Fact]
    public void Yaml_nested_100000_deep_is_refused_without_overflowing_the_stack()
    {
        var flow = "defaults: " + new string('[', 100_000) + new string(']', 100_000) + "\n";
        var p = Single(flow, "NestedTooDeep");
        Assert.Equal(1, p.Line);
        var block = "defaults:\n" + string.Concat(Enumerable.Range(1, 200).Select(i => new string(' ', i) + "k" + i + ":\n"));
        Assert.Equal("NestedTooDeep", Single(block, "NestedTooDeep").Code);
        // A normal depth is fine.
        Assert.Empty(ResourceLimitsConfig.Validate("f.yaml", "groups:\n  student:\n    members: [a, b]\n    gpu_limit: 1\n"));
    }

    [Fact]
    public void A_directory_a_fifo_or_a_huge_file_in_place_of_the_config_is_invalid_data_at_line_1_column_1()
    {
        using var cfg = new TempConfig();
        var limits = Path.Combine(cfg.ConfigDir, "resource-limits.yaml");
        var store = new ConfigStore(new Ds01Paths(cfg.ConfigDir, cfg.StateDir, cfg.LogDir));

        Directory.CreateDirectory(limits);
        var dir = Assert.Throws<ConfigException>(() => store.ResourceLimits);
        Assert.Equal((Ds01ErrorKind.InvalidData, "ConfigFileUnreadable"), (dir.Kind, dir.ErrorId));
        var problem = Assert.Single(dir.Problems);
        Assert.Equal((limits, 1, 1), (problem.File, problem.Line, problem.Column));
        Assert.Contains("directory", problem.Message);
        Assert.Equal("ConfigFileUnreadable", Assert.Single(ConfigStore.Validate(cfg.ConfigDir)).Code);
        Directory.Delete(limits);

        // A FIFO nobody writes to would block a plain read forever.
        Assert.Equal(0, Process.Start("mkfifo", limits)!.WaitForExitAsync().Wait(10_000) ? 0 : 1);
        var clock = Stopwatch.StartNew();
        var fifo = Assert.Throws<ConfigException>(() => new ConfigStore(store.Paths).ResourceLimits);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Contains("not a regular file", fifo.Problems[0].Message);
        File.Delete(limits);

        using (var f = File.Create(limits)) f.SetLength(YamlSource.MaxFileBytes + 1);
        Assert.Contains("more than", Assert.Throws<ConfigException>(() => new ConfigStore(store.Paths).ResourceLimits).Problems[0].Message);
        File.Delete(limits);

        Directory.CreateDirectory(Path.Combine(cfg.ConfigDir, "gpu-config.yaml"));
        var gpu = Assert.Throws<ConfigException>(() => GpuConfig.Load(cfg.ConfigDir));
        Assert.Equal("ConfigFileUnreadable", gpu.ErrorId);
    }
}

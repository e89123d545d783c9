using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

/// <summary>A fake nvidia-smi: a script that prints fixture files according to its arguments and logs them.</summary>
internal sealed class FakeNvidiaSmi : IDisposable
{
    public FakeNvidiaSmi(string machine, string? extraBody = null)
    {
        Dir = Directory.CreateTempSubdirectory("ds01-smi-").FullName;
        Path = System.IO.Path.Combine(Dir, "nvidia-smi");
        ArgsLog = System.IO.Path.Combine(Dir, "args.log");
        var fixture = RepoPaths.NvidiaSmiFixture(machine);
        // The query is answered from the header fixture with its header dropped and units removed, which is what
        // `--format=csv,noheader,nounits` would print for the fixture's machine (columns picked by name).
        File.WriteAllText(Path, $$"""
            #!/bin/bash
            for a in "$@"; do printf '%s\n' "$a" >> '{{ArgsLog}}'; done
            printf -- '--\n' >> '{{ArgsLog}}'
            {{extraBody}}
            case "$1" in
              -L) cat '{{fixture}}/smi-L.txt' ;;
              --query-gpu=*)
                awk -F', ' 'NR==1 { for (i=1;i<=NF;i++) { n=$i; sub(/ \[.*\]$/, "", n); col[n]=i }; next }
                  { split("index uuid name memory.total utilization.gpu mig.mode.current", f, " ");
                    line=""; for (k=1;k<=6;k++) { v=$(col[f[k]]); sub(/ (MiB|%)$/, "", v); line = line (k>1?", ":"") v }; print line }' \
                  '{{fixture}}/smi-query.csv' ;;
              *) echo "unexpected arguments: $*" >&2; exit 2 ;;
            esac
            """.Replace("\r\n", "\n"));
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Dir { get; }
    public string Path { get; }
    public string ArgsLog { get; }

    public IReadOnlyList<string[]> Calls() =>
        File.ReadAllText(ArgsLog).Split("--\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(c => c.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();

    public void Dispose() => Directory.Delete(Dir, true);
}

public class GpuInventoryTests
{
    [Fact]
    public void Runs_nvidia_smi_twice_with_separate_arguments_and_builds_the_a100_slots()
    {
        using var smi = new FakeNvidiaSmi("a100x4-mig-mixed-constructed");
        var slots = new GpuInventory(smi.Path).Load(null);
        Assert.Equal(13, slots.Count);
        Assert.Equal(new[] { "0", "1" }, slots.Where(s => !s.IsMig).Select(s => s.Slot));
        Assert.Equal(81920L, slots[0].MemoryTotalMiB);
        Assert.Equal(67, slots[1].UtilizationPercent);
        Assert.Equal(1.0 + 1.0 + 1.0 + 1.0, slots.Sum(s => s.Weight), 9);
        var calls = smi.Calls();
        Assert.Equal(2, calls.Count);
        Assert.Equal(new[] { "-L" }, calls[0]);
        Assert.Equal(new[] { "--query-gpu=index,uuid,name,memory.total,utilization.gpu,mig.mode.current",
            "--format=csv,noheader,nounits" }, calls[1]);
    }

    [Fact]
    public void H100_through_the_fake_binary_is_one_full_slot()
    {
        using var smi = new FakeNvidiaSmi("h100-80gb-mig-disabled");
        var s = Assert.Single(new GpuInventory(smi.Path).Load(GpuConfig.Parse("g.yaml", "attach: nvidia\n")));
        Assert.Equal("0", s.Slot);
        Assert.Equal(81559L, s.MemoryTotalMiB);
    }

    [Fact]
    public void A_static_list_replaces_nvidia_smi()
    {
        var config = GpuConfig.Parse("g.yaml", """
            gpus:
              - {index: 1, uuid: GPU-b, model: A100, mig_instances: [{device: 0, profile: 2g.20gb, uuid: MIG-x}]}
              - {index: 0, uuid: GPU-a, model: H100, memory_mib: 81559}
            """);
        var slots = new GpuInventory("/nonexistent/nvidia-smi").Load(config);
        Assert.Equal(new[] { "0", "1.0" }, slots.Select(s => s.Slot));
        Assert.Equal(81559L, slots[0].MemoryTotalMiB);
        Assert.Equal(2 / 7.0, slots[1].Weight, 12);
        Assert.Equal("MIG-x", slots[1].Uuid);
    }

    [Fact]
    public void Missing_nvidia_smi_without_a_static_list_says_what_to_do()
    {
        var e = Assert.Throws<Ds01Exception>(() => new GpuInventory("/nonexistent/dir/nvidia-smi").Load(null));
        Assert.Equal(Ds01ErrorKind.NotInstalled, e.Kind);
        Assert.Equal("GpuInventoryUnavailable", e.ErrorId);
        Assert.Contains("driver", e.RecommendedAction);
        Assert.Contains("gpu-config.yaml", e.RecommendedAction);
    }

    [Fact]
    public void A_failing_nvidia_smi_is_an_error_with_its_message_not_an_empty_inventory()
    {
        using var smi = new FakeNvidiaSmi("h100-80gb-mig-disabled",
            "echo 'Failed to initialize NVML: Driver/library version mismatch' >&2; exit 18");
        var e = Assert.Throws<Ds01Exception>(() => new GpuInventory(smi.Path).Load(null));
        Assert.Equal("GpuInventoryUnavailable", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.ResourceUnavailable, e.Kind);
        Assert.Contains("version mismatch", e.Message);
        Assert.Contains("18", e.Message);
    }

    [Fact]
    public void A_hung_nvidia_smi_times_out()
    {
        using var smi = new FakeNvidiaSmi("h100-80gb-mig-disabled", "sleep 20");
        var e = Assert.Throws<Ds01Exception>(() => new GpuInventory(smi.Path, TimeSpan.FromMilliseconds(300)).Load(null));
        Assert.Equal(Ds01ErrorKind.OperationTimeout, e.Kind);
    }
}

[CollectionDefinition(nameof(EnvironmentVariableTests), DisableParallelization = true)]
public class EnvironmentVariableTests;

[Collection(nameof(EnvironmentVariableTests))]
public class GpuInventoryEnvironmentTests
{
    [Fact]
    public void Ds01_nvidia_smi_names_the_binary_when_none_is_given()
    {
        using var smi = new FakeNvidiaSmi("h200-141gb-mig-disabled");
        var old = Environment.GetEnvironmentVariable(GpuInventory.NvidiaSmiVariable);
        try
        {
            Environment.SetEnvironmentVariable(GpuInventory.NvidiaSmiVariable, smi.Path);
            var inventory = new GpuInventory();
            Assert.Equal(smi.Path, inventory.NvidiaSmiPath);
            Assert.Equal("NVIDIA H200", Assert.Single(inventory.Load(null)).Model);
            Environment.SetEnvironmentVariable(GpuInventory.NvidiaSmiVariable, null);
            Assert.Equal("nvidia-smi", new GpuInventory().NvidiaSmiPath);
        }
        finally { Environment.SetEnvironmentVariable(GpuInventory.NvidiaSmiVariable, old); }
    }
}

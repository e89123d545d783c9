using System.Management.Automation;
using System.Text;
using Ds01.Core;
using Ds01.Core.Events;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>
/// The bad-input corpus (tests/fixtures/bad-input): one named test per class of broken or hostile config,
/// nvidia-smi output and event log, each through the cmdlet a user runs. Each asserts the specific error record
/// (id, category, target) and that nothing was written or lost: the input file is byte for byte as it was and
/// no state or event appeared. Container names and mount paths are in tests/Integration/BadInputTests.cs (they
/// need a real dockerd to show that nothing was created).
/// </summary>
[Collection("engine")]
public sealed class BadInputCorpusTests : IDisposable
{
    private static string Corpus(string kind, string file) => Path.Combine(RepoPaths.Fixtures, "bad-input", kind, file);
    private readonly TempConfig _cfg = new();

    public void Dispose() => _cfg.Dispose();

    private static string FirstId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    private void NothingWritten()
    {
        Assert.Empty(Directory.GetFileSystemEntries(_cfg.StateDir));
        Assert.False(File.Exists(_cfg.EventLogFile), "an event was written");
    }

    /// <summary>The limits file from the corpus (or given text), then Get-Ds01ResourceLimit's one error.</summary>
    private ErrorRecord LimitsError(byte[] content, string id)
    {
        var file = Path.Combine(_cfg.ConfigDir, "resource-limits.yaml");
        File.WriteAllBytes(file, content);
        var r = PsEngine.Run("Get-Ds01ResourceLimit", _cfg.Env);
        var e = r.SingleError();
        Assert.Empty(r.Output);
        Assert.Equal((id, ErrorCategory.InvalidData, (object)file), (FirstId(e), e.CategoryInfo.Category, e.TargetObject));
        Assert.False(string.IsNullOrEmpty(e.ErrorDetails?.RecommendedAction), "no recommended action");
        Assert.Equal(content, File.ReadAllBytes(file)); // nothing lost: the admin's file is as it was
        NothingWritten();
        return e;
    }

    private ErrorRecord LimitsError(string corpusFile, string id) => LimitsError(File.ReadAllBytes(Corpus("yaml", corpusFile)), id);

    [Fact]
    public void Yaml_with_wrong_types_is_WrongType_naming_each_key_line_and_column()
    {
        var e = LimitsError("wrong-types.yaml", "WrongType");
        Assert.Contains(":2:14: 'gpu_limit' in defaults must be a number, not 'sequence'", e.Exception.Message);
        Assert.Contains(":3:17: 'memory_limit' in defaults must be a size", e.Exception.Message);
    }

    [Fact]
    public void Yaml_with_a_duplicate_key_is_a_syntax_error_at_the_second_key_not_last_one_wins()
    {
        var e = LimitsError("duplicate-keys.yaml", "YamlSyntax");
        Assert.Contains(":3:3: YAML syntax error: Duplicate key gpu_limit", e.Exception.Message);
    }

    [Fact]
    public void Yaml_anchors_with_merge_keys_are_refused_as_unknown_keys_not_merged_silently()
    {
        var e = LimitsError("anchor-merge.yaml", "UnknownKey");
        Assert.Contains(":4:3: unknown key '<<' in defaults", e.Exception.Message);
    }

    [Fact]
    public void A_yaml_alias_bomb_is_refused_as_a_wrong_type_without_being_expanded()
    {
        // Billion laughs: 9 levels of 9 aliases each would be 387 million strings if anything expanded them.
        var yaml = new StringBuilder("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i <= 9; i++)
            yaml.Append($"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 9))}]\n");
        yaml.Append("admins: *l9\n");
        var e = LimitsError(Encoding.UTF8.GetBytes(yaml.ToString()), "UnknownKey");
        Assert.Contains("unknown key 'l0' at the top level", e.Exception.Message);
        Assert.Contains("admins must be", e.Exception.Message);
    }

    [Fact]
    public void Yaml_numbers_too_large_are_WrongType_or_OutOfRange_never_wrapped_or_infinite()
    {
        var e = LimitsError("huge-numbers.yaml", "WrongType");
        Assert.Contains("'cpu_limit' in defaults must be a number, not '1e400'", e.Exception.Message);
        Assert.Contains("'max_containers' in defaults is 99999999999999999999999; it must be at most 100000", e.Exception.Message);
    }

    [Fact]
    public void Yaml_indented_with_tabs_is_a_syntax_error_at_the_tab()
    {
        var e = LimitsError("tabs.yaml", "YamlSyntax");
        Assert.Contains("invalid tab as indentation", e.Exception.Message);
    }

    [Fact]
    public void Yaml_that_crashes_the_yaml_library_is_a_syntax_error_not_a_crash_of_the_cmdlet()
    {
        // YamlDotNet throws InvalidOperationException and ArgumentException on these (found by InputProperties).
        Assert.Contains("cannot be parsed", LimitsError("unclosed-flow.yaml", "YamlSyntax").Exception.Message);
        Assert.Contains("cannot be parsed", LimitsError("stray-bracket.yaml", "YamlSyntax").Exception.Message);
    }

    [Fact]
    public void A_directory_in_place_of_the_limits_file_is_ConfigFileUnreadable()
    {
        var file = Path.Combine(_cfg.ConfigDir, "resource-limits.yaml");
        Directory.CreateDirectory(file);
        var e = PsEngine.Run("Get-Ds01ResourceLimit", _cfg.Env).SingleError();
        Assert.Equal(("ConfigFileUnreadable", ErrorCategory.InvalidData, (object)file), (FirstId(e), e.CategoryInfo.Category, e.TargetObject));
        Assert.Contains("directory", e.Exception.Message);
        Assert.True(Directory.Exists(file));
        NothingWritten();
    }

    [Fact]
    public void An_unreadable_limits_file_is_ConfigFileUnreadable_for_a_user_and_is_not_replaced_by_defaults()
    {
        var file = _cfg.Write("resource-limits.yaml", "defaults:\n  gpu_limit: 0\n");
        File.SetUnixFileMode(file, UnixFileMode.None);
        foreach (var d in new[] { _cfg.Root, _cfg.ConfigDir, _cfg.StateDir, _cfg.LogDir })
            File.SetUnixFileMode(d, (UnixFileMode)Convert.ToInt32("755", 8));
        var r = Ds01Cli.RunWith(_cfg.Env, (65534, 65534), "-c", "Get-Ds01ResourceLimit");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("id: ConfigFileUnreadable", r.Err);
        Assert.Contains("category: InvalidData", r.Err);
        Assert.Contains(file, r.Err);
        Assert.Equal("defaults:\n  gpu_limit: 0\n", File.ReadAllText(file));
        NothingWritten();
    }

    [Theory]
    [InlineData("empty.yaml")]
    [InlineData("whitespace-and-comments.yaml")]
    [InlineData("bare-document-marker.yaml")]
    public void An_empty_limits_file_is_ConfigFileEmpty_never_the_builtin_defaults(string corpusFile)
    {
        // A truncated copy or a failed edit reads as "no limits at all" if taken for the defaults.
        var e = LimitsError(corpusFile, "ConfigFileEmpty");
        Assert.Contains(":1:1: the config file holds no YAML document", e.Exception.Message);
        Assert.Contains("`defaults: {}`", e.ErrorDetails!.RecommendedAction);
    }

    [Fact]
    public void Test_Ds01Config_reports_each_empty_config_file_and_defaults_braces_mean_the_builtin_defaults()
    {
        var files = new[] { "resource-limits.yaml", GpuConfig.FileName, Ds01.Core.Cluster.ClusterConfig.FileName };
        foreach (var f in files) _cfg.Write(f, "# nothing here yet\n");
        var r = PsEngine.Run($"Test-Ds01Config -Path '{_cfg.ConfigDir}'");
        Assert.False((bool)Assert.Single(r.Output).BaseObject);
        Assert.Equal(files.Select(f => ("ConfigFileEmpty", (object)Path.Combine(_cfg.ConfigDir, f))),
            r.Errors.Select(e => (FirstId(e), e.TargetObject)));
        Assert.Contains("`defaults: {}`", r.Errors[0].ErrorDetails!.RecommendedAction);
        Assert.Contains("`{}`", r.Errors[1].ErrorDetails!.RecommendedAction);
        Assert.Contains("remove the file", r.Errors[2].ErrorDetails!.RecommendedAction);

        // What the recommended actions say works: the files pass and the limits are the built-ins.
        _cfg.Write("resource-limits.yaml", "defaults: {}\n");
        foreach (var f in files.Skip(1)) _cfg.Write(f, "{}\n");
        Assert.Empty(PsEngine.Run($"Test-Ds01Config -Path '{_cfg.ConfigDir}'").Errors);
        var limit = PsEngine.Run("Get-Ds01ResourceLimit", _cfg.Env);
        Assert.Empty(limit.Errors);
        Assert.Equal(Environment.UserName, Assert.Single(limit.Output).Properties["User"].Value);
        // A missing optional file still means its defaults.
        foreach (var f in files.Skip(1)) File.Delete(Path.Combine(_cfg.ConfigDir, f));
        Assert.Empty(PsEngine.Run($"Test-Ds01Config -Path '{_cfg.ConfigDir}'").Errors);
        NothingWritten();
    }

    // nvidia-smi: a script standing in for it prints one corpus file for -L and another for --query-gpu.
    private string Smi(string listFile, string queryFile, int exit = 0)
    {
        var smi = Path.Combine(_cfg.Root, "nvidia-smi-" + Guid.NewGuid().ToString("N")[..6]);
        File.WriteAllText(smi, $"#!/bin/sh\ncase \"$1\" in -L) cat '{listFile}' ;; *) cat '{queryFile}' ;; esac\nexit {exit}\n");
        File.SetUnixFileMode(smi, (UnixFileMode)Convert.ToInt32("755", 8));
        return smi;
    }

    private ErrorRecord GpuError(string smi, string id, ErrorCategory category)
    {
        var env = _cfg.Env;
        env[GpuInventory.NvidiaSmiVariable] = smi;
        // Docker is never reached: the inventory fails first.
        env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock";
        var r = PsEngine.Run("Get-Ds01Gpu", env);
        var e = r.SingleError();
        Assert.Empty(r.Output);
        Assert.Equal((id, category), (FirstId(e), e.CategoryInfo.Category));
        Assert.False(string.IsNullOrEmpty(e.ErrorDetails?.RecommendedAction), "no recommended action");
        NothingWritten();
        return e;
    }

    private static string Good(string f) => Corpus("nvidia-smi", f);

    [Fact]
    public void Truncated_nvidia_smi_output_is_Unrecognised_naming_the_cut_line()
    {
        var e = GpuError(Smi(Good("truncated-L.txt"), Good("good-query.csv")), "NvidiaSmiOutputUnrecognised", ErrorCategory.InvalidData);
        Assert.Equal("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-", e.TargetObject);
        Assert.StartsWith("Line 1 of `nvidia-smi -L`", e.Exception.Message);
    }

    [Fact]
    public void Garbled_nvidia_smi_output_is_Unrecognised_at_its_first_line()
    {
        var e = GpuError(Smi(Good("garbled-L.txt"), Good("good-query.csv")), "NvidiaSmiOutputUnrecognised", ErrorCategory.InvalidData);
        Assert.StartsWith("Line 1 of `nvidia-smi -L`", e.Exception.Message);
    }

    [Fact]
    public void A_query_row_with_extra_columns_is_Unrecognised_not_read_by_position()
    {
        var e = GpuError(Smi(Good("good-L.txt"), Good("extra-columns-query.csv")), "NvidiaSmiOutputUnrecognised", ErrorCategory.InvalidData);
        Assert.Contains("8 values for 6 fields", e.Exception.Message);
    }

    [Fact]
    public void Empty_nvidia_smi_output_is_NvidiaSmiOutputEmpty_not_a_machine_without_gpus()
    {
        var smi = Smi(Good("empty.txt"), Good("empty.txt"));
        var e = GpuError(smi, "NvidiaSmiOutputEmpty", ErrorCategory.InvalidData);
        Assert.Equal(smi, e.TargetObject);
        // What the driver prints on a machine that really has none is no GPUs, not an error.
        var none = Path.Combine(_cfg.Root, "none.txt");
        File.WriteAllText(none, "No devices were found\n");
        Assert.Empty(new GpuInventory(Smi(none, Good("empty.txt"))).Load(null));
    }

    [Fact]
    public void A_non_zero_nvidia_smi_exit_is_GpuInventoryUnavailable_with_its_message_even_when_it_printed_gpus()
    {
        var smi = Smi(Good("good-L.txt"), Good("good-query.csv"), exit: 9);
        var e = GpuError(smi, "GpuInventoryUnavailable", ErrorCategory.ResourceUnavailable);
        Assert.Equal(smi, e.TargetObject);
        Assert.Contains("failed with exit code 9", e.Exception.Message);
    }

    [Fact]
    public void A_listing_of_100000_gpus_is_refused_at_the_first_index_past_1023()
    {
        var list = Path.Combine(_cfg.Root, "100k-L.txt");
        using (var w = new StreamWriter(list))
            for (var i = 0; i < 100_000; i++) w.Write($"GPU {i}: NVIDIA H100 80GB HBM3 (UUID: GPU-{i:x8}-0000-4000-8000-000000000000)\n");
        var e = GpuError(Smi(list, Good("good-query.csv")), "NvidiaSmiOutputUnrecognised", ErrorCategory.InvalidData);
        Assert.StartsWith($"Line {NvidiaSmiParser.MaxIndex + 2} of `nvidia-smi -L`", e.Exception.Message);
        Assert.Contains("not an index from 0 to 1023", e.Exception.Message);
    }

    [Fact]
    public void Non_utf8_bytes_in_a_model_name_are_replaced_and_in_a_uuid_refused()
    {
        var slot = Assert.Single(new GpuInventory(Smi(Good("non-utf8-L.txt"), Good("good-query.csv"))).Load(null));
        Assert.Equal("GPU-1223b8ad-b7aa-c6a2-1c05-fb85ef1e2a3d", slot.Uuid);
        Assert.Contains('\uFFFD', slot.Model);
        var bad = Path.Combine(_cfg.Root, "bad-uuid-L.txt");
        File.WriteAllBytes(bad, Encoding.ASCII.GetBytes("GPU 0: NVIDIA H100 (UUID: GPU-12").Concat(new byte[] { 0xff, 0xfe }).Concat(Encoding.ASCII.GetBytes("ab)\n")).ToArray());
        GpuError(Smi(bad, Good("good-query.csv")), "NvidiaSmiOutputUnrecognised", ErrorCategory.InvalidData);
    }

    // events.jsonl: what a crash, a full disk or a careless admin leaves; Get-Ds01Event reads past it and says so.
    [Fact]
    public void Broken_event_lines_are_skipped_with_one_warning_and_the_log_is_left_as_it_was()
    {
        File.Copy(Corpus("events", "broken-lines.jsonl"), _cfg.EventLogFile);
        var before = File.ReadAllBytes(_cfg.EventLogFile);
        var r = PsEngine.Run("Get-Ds01Event", _cfg.Env);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "container.create", "container.remove" }, r.Objects<Ds01Event>().Select(e => e.Type));
        Assert.Equal("Skipped 6 of 8 lines that are not valid events.", Assert.Single(r.Warnings));
        Assert.Equal(before, File.ReadAllBytes(_cfg.EventLogFile));
    }

    [Fact]
    public void An_oversized_event_line_is_skipped_without_being_buffered_and_the_lines_around_it_are_read()
    {
        var good = File.ReadAllLines(Corpus("events", "broken-lines.jsonl"))[0];
        using (var w = new StreamWriter(_cfg.EventLogFile))
        {
            w.Write(good + "\n");
            // 8 MiB: an event is at most 4095 bytes, so this is no event whatever it says.
            w.Write("{\"timestamp\":\"2026-11-02T08:00:00Z\",\"event_type\":\"huge\",\"details\":{\"pad\":\"");
            w.Write(new string('x', 8 << 20));
            w.Write("\"}}\n");
            w.Write(good.Replace("container.create", "container.start") + "\n");
        }
        var length = new FileInfo(_cfg.EventLogFile).Length;
        var r = PsEngine.Run("Get-Ds01Event", _cfg.Env);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "container.create", "container.start" }, r.Objects<Ds01Event>().Select(e => e.Type));
        Assert.Equal("Skipped 1 of 3 lines that are not valid events.", Assert.Single(r.Warnings));
        Assert.Equal(length, new FileInfo(_cfg.EventLogFile).Length);
    }
}

using System.Management.Automation;
using Xunit;

namespace Ds01.Tests.Unit.Cmdlets;

[Collection("engine")]
public class ResourceLimitCmdletTests
{
    private const string Config = """
        defaults: { cpu_limit: 8, memory_limit: 32G, gpu_limit: 1 }
        groups:
          msc_students: { priority: 50, gpu_limit: 1, max_runtime_hours: 24, members: [alice, root] }
        """;

    [Fact]
    public void Get_Ds01ResourceLimit_emits_the_callers_typed_limits()
    {
        using var cfg = new TempConfig(Config);
        var r = PsEngine.Run("Get-Ds01ResourceLimit", cfg.Env);
        Assert.Empty(r.Errors);
        var limit = Assert.Single(r.Output);
        Assert.Equal("Ds01.Core.Configuration.Ds01ResourceLimit", limit.BaseObject.GetType().FullName);
        Assert.Equal(Environment.UserName, limit.Properties["User"].Value);
        Assert.Equal("msc_students", limit.Properties["Group"].Value);
        Assert.Equal(24.0, limit.Properties["MaxRuntimeHours"].Value);
        Assert.Equal(34359738368L, limit.Properties["MemoryLimitBytes"].Value);
    }

    [Fact]
    public void An_admin_can_ask_for_another_user_by_name_and_through_the_pipeline()
    {
        using var cfg = new TempConfig(Config);
        var r = PsEngine.Run("'daemon' | Get-Ds01ResourceLimit", cfg.Env);
        Assert.Empty(r.Errors);
        Assert.Equal("daemon", Assert.Single(r.Output).Properties["User"].Value);
    }

    [Fact]
    public void An_unknown_user_is_ObjectNotFound_and_emits_nothing()
    {
        using var cfg = new TempConfig(Config);
        var r = PsEngine.Run("Get-Ds01ResourceLimit -User no-such-user-ds01", cfg.Env);
        Assert.Empty(r.Output);
        var e = r.SingleError();
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.StartsWith("UserNotFound,", e.FullyQualifiedErrorId);
        Assert.Equal("no-such-user-ds01", e.TargetObject);
    }

    [Fact]
    public void A_missing_config_dir_is_a_terminating_NotInstalled_error_naming_the_path()
    {
        var env = new Dictionary<string, string?> { ["DS01_CONFIG_DIR"] = "/nonexistent/ds01-etc" };
        var r = PsEngine.Run("Get-Ds01ResourceLimit", env);
        var e = r.SingleError();
        Assert.Equal(ErrorCategory.NotInstalled, e.CategoryInfo.Category);
        Assert.Contains("/nonexistent/ds01-etc", e.Exception.Message);
        Assert.Contains("DS01_CONFIG_DIR", e.ErrorDetails.RecommendedAction);
    }

    [Fact]
    public void A_broken_config_is_an_error_not_silent_defaults()
    {
        using var cfg = new TempConfig("defaults:\n  cpu_limit: eight\n");
        var r = PsEngine.Run("Get-Ds01ResourceLimit", cfg.Env);
        Assert.Empty(r.Output);
        var e = r.SingleError();
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
        Assert.Contains("resource-limits.yaml:2:14", e.Exception.Message);
    }

    [Fact]
    public void Test_Ds01Config_reports_each_problem_with_file_line_and_column_and_returns_false()
    {
        using var cfg = new TempConfig("defaults:\n  cpu_limit: -2\n  colour: blue\n");
        var r = PsEngine.Run($"Test-Ds01Config -Path '{cfg.ConfigDir}'");
        Assert.False((bool)Assert.Single(r.Output).BaseObject);
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category));
        Assert.Contains("resource-limits.yaml:2:14", r.Errors[0].Exception.Message);
        Assert.StartsWith("NegativeLimit,", r.Errors[0].FullyQualifiedErrorId);
        Assert.Contains("resource-limits.yaml:3:3", r.Errors[1].Exception.Message);
        Assert.StartsWith("UnknownKey,", r.Errors[1].FullyQualifiedErrorId);
    }

    [Fact]
    public void Test_Ds01Config_passes_the_shipped_config()
    {
        var r = PsEngine.Run($"Test-Ds01Config -Path '{Path.Combine(RepoPaths.Root, "config")}'");
        Assert.Empty(r.Errors);
        Assert.True((bool)Assert.Single(r.Output).BaseObject);
    }
}

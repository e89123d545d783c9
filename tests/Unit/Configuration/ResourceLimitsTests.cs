using Ds01.Core;
using Ds01.Core.Configuration;
using Xunit;

namespace Ds01.Tests.Unit.Configuration;

public class ResourceLimitsTests
{
    // The seeds' own example (SPEC 2.1), extended with a member list.
    private const string Seeds = """
        defaults:
          cpu_limit: 8
          memory_limit: 32G
          gpu_limit: 1
          max_runtime_hours: 48
        groups:
          phd_students:   { priority: 80, gpu_limit: 2, max_runtime_hours: 168 }
          msc_students:   { priority: 50, gpu_limit: 1, max_runtime_hours: 24, members: [alice] }
        users:
          jane.researcher: { priority: 100, gpu_limit: 4, max_runtime_hours: 336 }
        default_group: phd_students
        """;

    private static ResourceLimitsConfig Load(string yaml) => ResourceLimitsConfig.Parse("/etc/ds01/resource-limits.yaml", yaml);

    [Fact]
    public void Alice_gets_gpu_and_runtime_from_her_group_and_cpu_and_memory_from_defaults()
    {
        var alice = LimitResolver.Resolve(Load(Seeds), "alice", Array.Empty<string>());
        Assert.Equal("msc_students", alice.Group);
        Assert.Equal(1.0, alice.GpuLimit);
        Assert.Equal(24.0, alice.MaxRuntimeHours);
        Assert.Equal(8.0, alice.CpuLimit);
        Assert.Equal(34359738368L, alice.MemoryLimitBytes);
        Assert.Equal(50, alice.Priority);
        Assert.Equal("group:msc_students", alice.SourceOf("gpu_limit"));
        Assert.Equal("defaults", alice.SourceOf("cpu_limit"));
    }

    [Fact]
    public void A_user_entry_wins_field_by_field_and_falls_back_to_the_default_group()
    {
        var jane = LimitResolver.Resolve(Load(Seeds), "jane.researcher", Array.Empty<string>());
        Assert.Equal(100, jane.Priority);
        Assert.Equal(4.0, jane.GpuLimit);
        Assert.Equal(336.0, jane.MaxRuntimeHours);
        Assert.Equal(8.0, jane.CpuLimit);
        Assert.Equal("phd_students", jane.Group);
        Assert.Equal("user", jane.SourceOf("priority"));
    }

    [Fact]
    public void An_os_group_named_like_a_configured_group_places_the_user()
    {
        var bob = LimitResolver.Resolve(Load(Seeds), "bob", new[] { "bob", "msc_students" });
        Assert.Equal("msc_students", bob.Group);
        Assert.Equal(24.0, bob.MaxRuntimeHours);
    }

    [Fact]
    public void Unset_keys_take_the_builtins_and_unlimited_is_explicit()
    {
        var cfg = Load("defaults: { gpu_limit: unlimited }\nusers:\n  root: { cpu_limit: null }\n");
        var root = LimitResolver.Resolve(cfg, "root", Array.Empty<string>());
        Assert.Null(root.GpuLimit);
        Assert.Null(root.CpuLimit);
        Assert.Equal(15.0, root.GpuHoldAfterStopMinutes);
        Assert.Equal("builtin", root.SourceOf("gpu_hold_after_stop_minutes"));
        Assert.Equal(50, root.Priority);
    }

    [Fact]
    public void The_shipped_example_config_is_valid_and_resolves()
    {
        var file = Path.Combine(RepoPaths.Root, "config", "resource-limits.yaml");
        var cfg = ResourceLimitsConfig.Parse(file, File.ReadAllText(file));
        var jane = LimitResolver.Resolve(cfg, "jane.researcher", Array.Empty<string>());
        Assert.Equal("researchers", jane.Group);
        Assert.Equal(100, jane.Priority);
        Assert.Equal(32.0, jane.CpuLimit);
    }

    [Fact]
    public void Every_problem_is_reported_with_line_and_column()
    {
        const string yaml = "defaults:\n  cpu_limit: eight\n  memory_limt: 32G\n  gpu_limit: -1\nusers:\n  bob: { group: nosuch }\n";
        var problems = ResourceLimitsConfig.Validate("/x/resource-limits.yaml", yaml);
        Assert.Collection(problems,
            p => { Assert.Equal(("WrongType", 2, 14), (p.Code, p.Line, p.Column)); Assert.Contains("'eight'", p.Message); },
            p => { Assert.Equal(("UnknownKey", 3, 3), (p.Code, p.Line, p.Column)); Assert.Contains("memory_limit", p.Message); },
            p => Assert.Equal(("NegativeLimit", 4, 14), (p.Code, p.Line, p.Column)),
            p => { Assert.Equal(("UnknownGroup", 6, 17), (p.Code, p.Line, p.Column)); Assert.Contains("nosuch", p.Message); });
        Assert.All(problems, p => Assert.Equal("/x/resource-limits.yaml", p.File));
    }

    [Fact]
    public void A_mistyped_config_throws_rather_than_falling_back_to_defaults()
    {
        var e = Assert.Throws<ConfigException>(() => Load("defaults:\n  memory_limit: lots\n"));
        Assert.Equal(Ds01ErrorKind.InvalidData, e.Kind);
        Assert.Contains("resource-limits.yaml:2:17", e.Message);
    }

    [Fact]
    public void Yaml_syntax_errors_carry_their_position()
    {
        var problems = ResourceLimitsConfig.Validate("f.yaml", "defaults:\n  cpu_limit: [8\n");
        var p = Assert.Single(problems);
        Assert.Equal("YamlSyntax", p.Code);
        Assert.True(p.Line >= 2, p.ToString());
    }

    [Theory]
    [InlineData("priority: 0", "OutOfRange")]
    [InlineData("priority: 101", "OutOfRange")]
    [InlineData("priority: 5.5", "WrongType")]
    [InlineData("allow_full_gpu: maybe", "WrongType")]
    [InlineData("cpu_limit: 0", "OutOfRange")]
    [InlineData("max_runtime_hrs: 4", "UnknownKey")]
    [InlineData("gpu_hold_after_stop_minutes: unlimited", "WrongType")]
    public void Bad_values_are_named(string line, string code)
    {
        var p = Assert.Single(ResourceLimitsConfig.Validate("f.yaml", "defaults:\n  " + line + "\n"));
        Assert.Equal(code, p.Code);
    }

    [Fact]
    public void A_missing_config_dir_says_which_path_and_how_to_set_it()
    {
        var store = new ConfigStore(new Ds01Paths("/nonexistent/ds01-etc", "/tmp", "/tmp"));
        var e = Assert.Throws<Ds01Exception>(() => store.ResourceLimits);
        Assert.Equal("ConfigDirectoryNotFound", e.ErrorId);
        Assert.Contains("/nonexistent/ds01-etc", e.Message);
        Assert.Contains("DS01_CONFIG_DIR", e.RecommendedAction);
    }
}

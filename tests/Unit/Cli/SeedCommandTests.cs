using System.Diagnostics;
using System.Reflection;
using System.Management.Automation;
using Ds01.Cli;
using Ds01.Cli.Seed;
using Ds01.Core.Containers;
using Xunit;

namespace Ds01.Tests.Unit.Cli;

public class SeedArgumentsTests
{
    private static SeedArguments Parse(string command, params string[] args) =>
        SeedArguments.Parse(SeedCatalog.Find(command)!, args, json: false);

    [Fact]
    public void Container_create_takes_the_seeds_flags()
    {
        var a = Parse("container-create", "my-project", "--gpu=1", "--image=aimehub/pytorch", "--data=/data/x", "--wait");

        Assert.Equal("New-Ds01Container", a.Command.Cmdlet);
        Assert.Equal(["my-project"], a.Positionals);
        Assert.Equal("1", a.Parameters["GpuCount"]);
        Assert.Equal("aimehub/pytorch", a.Parameters["Image"]);
        Assert.Equal("/data/x", a.Parameters["DataPath"]);
        Assert.Equal(true, a.Parameters["Wait"]);
        Assert.Equal(SeedFormat.Table, a.Format);
    }

    [Fact]
    public void Other_flags_are_the_parameter_in_kebab_case_and_repeats_become_a_list()
    {
        var a = Parse("image-update", "thesis", "--add=numpy", "--add=scipy", "--no-cache");

        Assert.Equal(new[] { "numpy", "scipy" }, a.Parameters["AddPackage"]);
        Assert.Equal(true, a.Parameters["NoCache"]);
        Assert.Equal("TimeoutSec", SeedCatalog.Find("container-stop")!.ParameterFor("timeout-sec"));
    }

    [Fact]
    public void Retire_always_stops_and_saves_with_save_image_and_deploy_is_Deploy_Ds01Container()
    {
        Assert.Equal(true, Parse("container-retire", "x").Parameters["Stop"]);
        Assert.Equal("snap", Parse("container-retire", "x", "--save-image=snap").Parameters["SaveImage"]);
        var deploy = Parse("container-deploy", "x", "--open");
        Assert.Equal("Deploy-Ds01Container", deploy.Command.Cmdlet);
        Assert.Equal(true, deploy.Parameters["Open"]);
        Assert.Null(deploy.Command.Then);
    }

    [Theory]
    [InlineData("--format=json", SeedFormat.Json)]
    [InlineData("--format=simple", SeedFormat.Simple)]
    [InlineData("--format=TABLE", SeedFormat.Table)]
    [InlineData("--json", SeedFormat.Json)]
    public void Format_is_table_json_or_simple(string flag, SeedFormat expected) =>
        Assert.Equal(expected, Parse("container-list", flag).Format);

    [Theory]
    [InlineData("--help", SeedHelp.Help)]
    [InlineData("--info", SeedHelp.Info)]
    [InlineData("--concepts", SeedHelp.Concepts)]
    public void Help_tiers(string flag, SeedHelp expected) => Assert.Equal(expected, Parse("container-stop", flag).Help);

    [Theory]
    [InlineData("--format=xml")]
    [InlineData("-g")]
    [InlineData("--")]
    [InlineData("--gpu;rm=1")]
    [InlineData("--guided=yes")]
    public void What_cannot_be_run_is_a_usage_error(string arg) =>
        Assert.Throws<CliUsageException>(() => Parse("container-create", "x", arg));

    [Theory]
    [InlineData("container-create")]
    [InlineData("container-deploy")]
    [InlineData("container-start")]
    [InlineData("container-stop")]
    [InlineData("container-remove")]
    [InlineData("container-attach")]
    [InlineData("image-create")]
    public void Guided_binds_the_cmdlets_Guided_switch(string command) =>
        Assert.Equal(true, Parse(command, "--guided").Parameters["Guided"]);

    [Fact]
    public void Guided_on_a_command_without_a_guided_flow_is_a_usage_error() =>
        Assert.Contains("--guided is not available", Assert.Throws<CliUsageException>(() => Parse("container-list", "--guided")).Message);

    [Fact]
    public void Every_seed_command_names_a_cmdlet_the_module_has_and_a_concept_topic_it_ships()
    {
        var cmdlets = typeof(Ds01.PowerShell.Ds01Cmdlet).Assembly.GetTypes()
            .Select(t => t.GetCustomAttribute<CmdletAttribute>()).Where(a => a is not null)
            .Select(a => $"{a!.VerbName}-{a.NounName}").ToHashSet();
        var topics = Directory.GetFiles(Path.Combine(RepoPaths.Root, "module", "en-US"), "about_*.help.txt")
            .Select(f => Path.GetFileName(f).Replace(".help.txt", "")).ToHashSet();
        foreach (var seed in SeedCatalog.All)
        {
            Assert.Contains(seed.Cmdlet, cmdlets);
            if (seed.Then is { } then) Assert.Contains(then, cmdlets);
            Assert.Contains(seed.Concept, topics);
        }
        Assert.Subset(topics, SeedCatalog.Concepts.ToHashSet());
    }

    [Fact]
    public void The_bash_completion_knows_every_seed_command_and_completes_each_name()
    {
        var script = File.ReadAllText(Path.Combine(RepoPaths.Root, "scripts", "ds01-completion.bash"));
        var listed = script[(script.IndexOf("_ds01_seed_commands=\"", StringComparison.Ordinal) + 21)..];
        listed = listed[..listed.IndexOf('"')];
        var completeLine = script[script.IndexOf("complete -F _ds01_complete", StringComparison.Ordinal)..].Replace("\\\n", " ");
        var words = listed.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        foreach (var seed in SeedCatalog.All)
        {
            Assert.Contains(seed.Name, words);
            Assert.Contains(" " + seed.Name, completeLine);
        }
    }
}

public class SeedHelpAndCompletionTests
{
    [Fact]
    public void Ds01_help_names_every_seed_command()
    {
        var usage = CliArguments.UsageText;
        var seedPart = usage[usage.IndexOf("Seed commands", StringComparison.Ordinal)..];
        foreach (var seed in SeedCatalog.All)
        {
            var dash = seed.Name.IndexOf('-');
            // "container-create|deploy|..." names container-deploy as "deploy" after its family's first member.
            var named = dash < 0
                ? seedPart.Contains(" " + seed.Name, StringComparison.Ordinal)
                : seedPart.Contains(seed.Name, StringComparison.Ordinal)
                  || System.Text.RegularExpressions.Regex.IsMatch(seedPart, $@"\b{seed.Name[..dash]}-[a-z|-]*\|{seed.Name[(dash + 1)..]}\b");
            Assert.True(named, $"ds01 --help does not name {seed.Name}:\n{seedPart}");
        }
    }

    [Fact]
    public void Dashboard_is_a_seed_command_with_its_refresh_flag_and_help_tiers()
    {
        var a = SeedArguments.Parse(SeedCatalog.Find("dashboard")!, ["--refresh=5"], json: false);
        Assert.Equal("Show-Ds01Dashboard", a.Command.Cmdlet);
        Assert.Equal("5", a.Parameters["RefreshSec"]);
        Assert.Equal(true, a.Parameters["Watch"]);
        Assert.Equal(SeedHelp.Help, SeedArguments.Parse(SeedCatalog.Find("dashboard")!, ["--help"], json: false).Help);
    }

    /// <summary>Runs the completion script in a real bash for a command line; a fake ds01 answers the name lists.</summary>
    private static string[] Complete(params string[] words)
    {
        var dir = Directory.CreateTempSubdirectory("ds01-completion-");
        try
        {
            var fake = Path.Combine(dir.FullName, "ds01");
            // Prints the --state it was asked for, so the test sees which list each command offers.
            File.WriteAllText(fake, "#!/bin/sh\nfor a in \"$@\"; do case $a in --state=*) echo \"only-${a#--state=}\"; exit 0;; esac; done\necho any-state\n");
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var script = Path.Combine(RepoPaths.Root, "scripts", "ds01-completion.bash");
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "-c", "source \"$0\"; _ds01_exe=\"$1\"; shift; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _ds01_complete; printf '%s\\n' \"${COMPREPLY[@]}\"", script, fake })
                psi.ArgumentList.Add(arg);
            foreach (var w in words) psi.ArgumentList.Add(w);
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, error);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Bash_completes_seed_names_flags_and_container_names_by_state()
    {
        Assert.Contains("dashboard", Complete("ds01", "dash"));
        Assert.Equal(["container-stop"], Complete("ds01", "container-sto"));
        Assert.Contains("--timeout=", Complete("ds01", "container-stop", "--t"));
        Assert.Contains("--refresh=", Complete("dashboard", "--r"));
        Assert.Equal(["only-Running"], Complete("ds01", "container-stop", ""));
        Assert.Equal(["only-Stopped"], Complete("container-start", ""));
        Assert.Equal(["any-state"], Complete("ds01", "container-remove", ""));
    }
}

public class SeedViewTests
{
    [Fact]
    public void Container_list_has_the_seeds_columns_and_summary()
    {
        var lines = SeedView.ContainerList(
        [
            new Ds01Container { Name = "thesis", State = ContainerState.Running, Image = "aimehub/pytorch:2.5", Gpu = "0", Uptime = TimeSpan.FromMinutes(125) },
            new Ds01Container { Name = "nlp", State = ContainerState.Stopped, Image = "busybox" },
            new Ds01Container { Name = "new", State = ContainerState.Created, Image = "busybox" },
        ]);

        Assert.Equal("NAME    STATUS   IMAGE                GPU  UPTIME", lines[0]);
        Assert.Equal("thesis  running  aimehub/pytorch:2.5  0    2h 5m", lines[1]);
        Assert.Equal("nlp     stopped  busybox              -    -", lines[2]);
        Assert.Equal("new     created  busybox              -    -", lines[3]);
        Assert.Equal("1 running, 2 stopped, 3 total", lines[^1]);
    }

    [Fact]
    public void Container_stats_has_the_seeds_columns()
    {
        var lines = SeedView.ContainerStats([new Ds01ContainerStats { Name = "thesis", CpuPercent = 12.5, MemoryUsageBytes = 512L << 20, MemoryLimitBytes = 2L << 30, MemoryPercent = 25 }]);

        Assert.Equal("NAME    CPU %   MEM USAGE          MEM %   GPU MEM  GPU %", lines[0]);
        Assert.Equal("thesis  12.50%  512.0MiB / 2.0GiB  25.00%  -        -", lines[1]);
    }

    [Fact]
    public void Json_writes_states_by_name()
    {
        var json = SeedView.ToJson([new Ds01Container { Name = "a", State = ContainerState.Paused }]);
        var root = System.Text.Json.JsonDocument.Parse(json).RootElement;
        Assert.Equal("Paused", root[0].GetProperty("State").GetString());
        Assert.Equal("a", root[0].GetProperty("Name").GetString());
    }
}

/// <summary>The real executable, started under a seed command's name (a symlink), as the install step links it.</summary>
public class SeedProcessTests
{
    private static Ds01Cli.Result RunAs(string name, params string[] args)
    {
        var apphost = Path.ChangeExtension(Ds01Cli.Dll, null);
        var dir = Directory.CreateTempSubdirectory("ds01-seed-");
        try
        {
            var link = Path.Combine(dir.FullName, name);
            File.CreateSymbolicLink(link, apphost);
            var start = new ProcessStartInfo(link) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            start.Environment["NO_COLOR"] = "1";
            // Nothing listens here: the command must fail with Ds01's error, not hang or crash.
            start.Environment["DOCKER_HOST"] = $"unix://{dir.FullName}/none.sock";
            start.Environment["DS01_CONFIG_DIR"] = Path.Combine(RepoPaths.Root, "config");
            using var p = Process.Start(start)!;
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            return new Ds01Cli.Result(p.ExitCode, stdout.Result, stderr.Result);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void A_symlink_named_container_list_runs_container_list()
    {
        var bad = RunAs("container-list", "--format=xml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("container-list: --format takes table, json or simple", bad.Err);

        var r = RunAs("container-list");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("ds01: ", r.Err);
        Assert.Contains("category: ConnectionError", r.Err);
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void Help_tiers_come_from_Get_Help()
    {
        var help = RunAs("container-create", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("New-Ds01Container", help.Out);
        Assert.Contains("SYNOPSIS", help.Out);
        Assert.DoesNotContain("PARAMETERS", help.Out);

        var info = RunAs("ds01", "container-create", "--info");
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("PARAMETERS", info.Out);
        Assert.Contains("-GpuCount", info.Out);

        var concepts = RunAs("ds01", "gpu-status", "--concepts");
        Assert.Equal(0, concepts.ExitCode);
        Assert.Contains("about_Ds01_Gpu", concepts.Out);
    }

    [Fact]
    public void A_parameter_the_cmdlet_lacks_is_a_usage_error_and_version_needs_no_engine()
    {
        var r = RunAs("container-stop", "x", "--no-such-flag");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("NoSuchFlag", r.Err);

        var v = RunAs("ds01", "--version");
        Assert.Equal(0, v.ExitCode);
        Assert.Equal(typeof(Ds01.PowerShell.Ds01Cmdlet).Assembly.GetName().Version!.ToString(3), v.Out.Trim());
    }
}

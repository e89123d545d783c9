using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Ds01.Tests.Unit.Cli;

// One class per group so xunit starts these slow child processes in parallel.
public class CliOutputTests
{
    [Fact]
    public void Get_Help_reads_as_pwsh_prints_it()
    {
        var r = Ds01Cli.Run("-c", "Get-Help Stop-Ds01Container -Full");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("SYNOPSIS", r.Out);
        Assert.Contains("Stop-Ds01Container [-Confirm]", r.Out);
        Assert.Contains("PARAMETERS", r.Out);
        Assert.Contains("Example 1: Stop a container", r.Out);
        Assert.Contains("Get-Ds01Container | Stop-Ds01Container", r.Out);
        Assert.DoesNotContain("MamlCommandHelpInfo", r.Out);
        Assert.DoesNotMatch(@"(?m)^\s*-+( +-+)+\s*$", r.Out);   // no "---- -----" line: not a property table
    }

    private static Ds01Cli.Result Ds01(params string[] args) => Ds01Cli.Run(args);

    [Fact]
    public void Evaluates_an_expression()
    {
        var r = Ds01("-c", "1+1");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("2", r.Out.Trim());
        Assert.Equal("", r.Err);
    }
    [Fact]
    public void Json_prints_one_array_of_objects()
    {
        var r = Ds01("--json", "-c", "[pscustomobject]@{a=1}");

        Assert.Equal(0, r.ExitCode);
        var root = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(1, root.GetArrayLength());
        Assert.Equal(1, root[0].GetProperty("a").GetInt32());
    }
    [Fact]
    public void Objects_print_as_the_engines_table_when_piped()
    {
        var r = Ds01("-c", "[pscustomobject]@{Name='a'; Gpus=2}; [pscustomobject]@{Name='b'; Gpus=$null}");

        Assert.Equal(0, r.ExitCode);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToArray();
        Assert.Equal(["Name Gpus", "---- ----", "a       2", "b"], lines);
    }

    [Fact]
    public void Json_of_no_output_is_an_empty_array()
    {
        var r = Ds01("--json", "-c", "@()");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("[]", r.Out.Trim());
    }

    [Fact]
    public void Warnings_go_to_stderr_information_to_stdout_and_verbose_only_when_asked()
    {
        const string script =
            "function f { [CmdletBinding()] param() $PSCmdlet.WriteWarning('careful'); " +
            "$PSCmdlet.WriteVerbose('chatty'); $PSCmdlet.WriteInformation('note', @()) }; f";

        var quiet = Ds01("-c", script);
        Assert.Equal(0, quiet.ExitCode);
        Assert.Equal("warning: careful", quiet.Err.Trim());
        Assert.Equal("note", quiet.Out.Trim());

        var hostTagged = Ds01("-c",
            "function Show-Once { [CmdletBinding()] param() $PSCmdlet.WriteInformation('once', [string[]]@('PSHOST')) }; Show-Once");
        Assert.Equal("once", hostTagged.Out.Trim());

        var verbose = Ds01("--verbose", "-c", script);
        Assert.Contains("verbose: chatty", verbose.Err);
    }
    [Fact]
    public void Version_and_help_need_no_command()
    {
        var version = Ds01("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+(\.\d+)*$", version.Out.Trim());

        var help = Ds01("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("usage: ds01", help.Out);

        Assert.Equal(2, Ds01("--bogus").ExitCode);
    }
}

public class CliErrorTests
{
    private static Ds01Cli.Result Ds01(params string[] args) => Ds01Cli.Run(args);

    [Fact]
    public void A_terminating_error_goes_to_stderr_with_exit_1()
    {
        var r = Ds01("-c", "throw 'boom'");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("ds01: boom", r.Err);
        Assert.Equal("", r.Out.Trim());
    }
    [Fact]
    public void A_command_that_does_not_exist_is_an_error_not_a_crash()
    {
        var r = Ds01("-c", "Get-Ds01NoSuchThing /nonexistent");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ds01: The term 'Get-Ds01NoSuchThing' is not recognized", r.Err);
        Assert.Contains("id: CommandNotFoundException", r.Err);
    }
    [Fact]
    public void A_non_terminating_error_still_fails_the_run_and_output_is_kept()
    {
        var r = Ds01("-c", "'before'; Get-Command no-such-command; 'after'");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(["before", "after"], r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("target: no-such-command", r.Err);
    }
    [Fact]
    public void Exit_in_the_script_sets_the_exit_code() => Assert.Equal(3, Ds01("-c", "exit 3").ExitCode);
}

public class CliDispatchTests
{
    private static Ds01Cli.Result Ds01(params string[] args) => Ds01Cli.Run(args);

    [Fact]
    public void Dispatch_passes_arguments_as_values_never_as_script_text()
    {
        var found = Ds01("Get-Command", "Get-Module");
        Assert.Equal(0, found.ExitCode);
        Assert.Contains("Module", found.Out);

        // Were the argument spliced into script text, this would exit 7.
        var hostile = Ds01("Get-Command", "x'; exit 7; '");
        Assert.Equal(1, hostile.ExitCode);
        Assert.Contains("not recognized", hostile.Err);
    }
    [Fact]
    public void An_unknown_command_is_reported()
    {
        var r = Ds01("no-such-command");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown command 'no-such-command'", r.Err);
    }
    [Fact]
    public void A_confirmation_prompt_fails_instead_of_waiting_when_stdin_is_not_a_terminal()
    {
        const string script =
            "function Remove-Thing { [CmdletBinding(SupportsShouldProcess, ConfirmImpact='High')] param() " +
            "if ($PSCmdlet.ShouldProcess('thing')) { 'removed' } }; Remove-Thing";

        var refused = Ds01("-c", script);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("cannot prompt", refused.Err);
        Assert.DoesNotContain("removed", refused.Out);

        var confirmed = Ds01("-c", script.Replace("; Remove-Thing", "; Remove-Thing -Confirm:$false"));
        Assert.Equal(0, confirmed.ExitCode);
        Assert.Equal("removed", confirmed.Out.Trim());
    }

    [Theory]
    [InlineData("container-start")]
    [InlineData("container-attach")]
    [InlineData("container-create", "--guided")]
    public void A_left_out_name_with_stdin_redirected_is_an_error_at_once_not_a_picker(params string[] args)
    {
        // Ds01() gives ds01 a closed, redirected stdin and fails the test if it has not exited within its timeout.
        var r = Ds01(args);
        Assert.Equal(1, r.ExitCode);
        Assert.Matches("NameRequired|GuidedNeedsTerminal", r.Err);
        Assert.Contains("no terminal", r.Err);
    }
}

using System.Management.Automation;
using Ds01.Cli;
using Xunit;

namespace Ds01.Tests.Unit.Cli;

public class CliArgumentsTests
{
    [Fact]
    public void Reads_options_before_the_script()
    {
        var args = CliArguments.Parse(["--json", "--verbose", "--command", "Get-Command"]);

        Assert.Equal(CliMode.Script, args.Mode);
        Assert.Equal("Get-Command", args.Script);
        Assert.True(args.Json);
        Assert.True(args.Verbose);
    }

    [Fact]
    public void Everything_after_a_command_name_belongs_to_the_command()
    {
        var args = CliArguments.Parse(["--json", "container-list", "--all", "-c"]);

        Assert.Equal(CliMode.Dispatch, args.Mode);
        Assert.Equal("container-list", args.CommandName);
        Assert.Equal(["--all", "-c"], args.CommandArguments);
        Assert.True(args.Json);
    }

    [Theory]
    [InlineData("--nope")]
    [InlineData("-c")]
    public void Rejects_what_it_cannot_run(string arg) =>
        Assert.Throws<CliUsageException>(() => CliArguments.Parse([arg]));

    [Fact]
    public void Nothing_given_means_usage() => Assert.Equal(CliMode.Usage, CliArguments.Parse([]).Mode);

    [Fact]
    public void Error_records_show_message_id_category_target_and_hint()
    {
        var record = new ErrorRecord(new InvalidOperationException("no GPU free"), "NoGpu", ErrorCategory.ResourceUnavailable, "alice");
        record.ErrorDetails = new ErrorDetails("no GPU free") { RecommendedAction = "try again later" };

        var lines = ErrorWriter.Format(record).Split(Environment.NewLine);

        Assert.Equal("ds01: no GPU free", lines[0]);
        Assert.Equal("  id: NoGpu  category: ResourceUnavailable  target: alice", lines[1]);
        Assert.Equal("  hint: try again later", lines[2]);
    }
}

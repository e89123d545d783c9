using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Xml.Linq;
using Ds01.Cli;
using Xunit;

namespace Ds01.Tests.Unit.Cli;

public sealed class TableRendererTests : IDisposable
{
    private readonly Runspace _runspace;
    private readonly TableRenderer _renderer;

    public TableRendererTests()
    {
        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        _runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        _runspace.Open();
        var views = new FormatViews(FormatViews.Parse(XDocument.Parse(FormatViewsTests.SampleXml)));
        _renderer = new TableRenderer(views, new ScriptCellEvaluator(_runspace));
    }

    public void Dispose() => _runspace.Dispose();

    private static PSObject Obj(string? typeName, params (string Name, object? Value)[] properties)
    {
        var o = new PSObject();
        foreach (var (name, value) in properties) o.Properties.Add(new PSNoteProperty(name, value));
        if (typeName is not null) o.TypeNames.Insert(0, typeName);
        return o;
    }

    private static PSObject Container(string name, int gpus, string? owner) =>
        Obj("Ds01.Test.Container", ("Name", name), ("Gpus", Enumerable.Range(0, gpus).ToArray()), ("Owner", owner));

    [Fact]
    public void Uses_the_view_columns_and_evaluates_script_block_cells()
    {
        var block = Assert.IsType<TableBlock>(Assert.Single(_renderer.Plan([Container("alice-pytorch", 2, "alice")])));

        Assert.Equal(["NAME", "GPUS", "Owner"], block.Columns.Select(c => c.Label));
        Assert.Equal(["alice-pytorch", "2", "alice"], Assert.Single(block.Rows));
    }

    [Fact]
    public void Groups_consecutive_objects_of_one_type_into_one_table()
    {
        var blocks = _renderer.Plan([
            Container("a", 1, "alice"), Container("b", 0, null),
            "a line", 42,
            Container("c", 1, "carol"),
        ]);

        Assert.Collection(blocks,
            b => Assert.Equal(2, Assert.IsType<TableBlock>(b).Rows.Count),
            b => Assert.Equal(["a line", "42"], Assert.IsType<LinesBlock>(b).Lines),
            b => Assert.Single(Assert.IsType<TableBlock>(b).Rows));
        Assert.Equal("", ((TableBlock)blocks[0]).Rows[1][2]);
    }

    [Fact]
    public void Objects_without_a_view_show_their_first_six_properties()
    {
        var wide = Obj(null, Enumerable.Range(1, 8).Select(i => ($"P{i}", (object?)i)).ToArray());

        var block = Assert.IsType<TableBlock>(Assert.Single(_renderer.Plan([wide])));

        Assert.Equal(["P1", "P2", "P3", "P4", "P5", "P6"], block.Columns.Select(c => c.Label));
    }

    [Fact]
    public void Objects_of_different_shapes_get_separate_tables()
    {
        var blocks = _renderer.Plan([Obj(null, ("a", 1)), Obj(null, ("b", 2))]);

        Assert.Equal(2, blocks.Count);
    }

    [Fact]
    public void Dates_render_in_local_time_to_the_minute()
    {
        var utc = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        var expected = utc.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

        Assert.Equal(expected, ValueText.Format(utc));
        Assert.Equal(expected, ValueText.Format(new DateTimeOffset(utc)));
        Assert.Equal("", ValueText.Format(null));
    }

    [Fact]
    public void Renders_ascii_borders_when_not_a_terminal()
    {
        var text = new StringWriter();
        var console = new CliConsole(text, TextWriter.Null, TextReader.Null, Interactive: false, OutputIsTerminal: false, NoColor: true);

        _renderer.Render([Container("alice-[pytorch]", 1, "alice")], CommandRunner.CreateAnsiConsole(console), text, ascii: true);

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.StartsWith("+", lines[0]);
        Assert.Matches(@"^\| NAME\s+\|\s+GPUS \| Owner \|$", lines[1]);
        Assert.Contains("alice-[pytorch]", lines[3]);
        Assert.DoesNotContain('\u001b', text.ToString());
        Assert.All(text.ToString(), c => Assert.True(c < 128, $"non-ASCII character U+{(int)c:X4}"));
    }
}

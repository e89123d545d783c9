using System.Xml.Linq;
using Ds01.Cli;
using Xunit;

namespace Ds01.Tests.Unit.Cli;

public class FormatViewsTests
{
    internal const string SampleXml =
        """
        <?xml version="1.0" encoding="utf-8"?>
        <Configuration>
          <ViewDefinitions>
            <View>
              <Name>Container</Name>
              <ViewSelectedBy><TypeName>Ds01.Test.Container</TypeName></ViewSelectedBy>
              <TableControl>
                <TableHeaders>
                  <TableColumnHeader><Label>NAME</Label><Width>20</Width></TableColumnHeader>
                  <TableColumnHeader><Label>GPUS</Label><Alignment>Right</Alignment></TableColumnHeader>
                  <TableColumnHeader />
                </TableHeaders>
                <TableRowEntries>
                  <TableRowEntry>
                    <TableColumnItems>
                      <TableColumnItem><PropertyName>Name</PropertyName></TableColumnItem>
                      <TableColumnItem><ScriptBlock>$_.Gpus.Count</ScriptBlock></TableColumnItem>
                      <TableColumnItem><PropertyName>Owner</PropertyName></TableColumnItem>
                    </TableColumnItems>
                  </TableRowEntry>
                </TableRowEntries>
              </TableControl>
            </View>
            <View>
              <Name>ContainerList</Name>
              <ViewSelectedBy><TypeName>Ds01.Test.Other</TypeName></ViewSelectedBy>
              <ListControl><ListEntries /></ListControl>
            </View>
          </ViewDefinitions>
        </Configuration>
        """;

    [Fact]
    public void Reads_headers_and_column_sources_from_table_views()
    {
        var view = Assert.Single(FormatViews.Parse(XDocument.Parse(SampleXml)));

        Assert.Equal("Container", view.Name);
        Assert.Equal(["Ds01.Test.Container"], view.TypeNames);
        Assert.Equal(["NAME", "GPUS", "Owner"], view.Columns.Select(c => c.Label));
        Assert.Equal(20, view.Columns[0].Width);
        Assert.Equal(ColumnAlignment.Right, view.Columns[1].Alignment);
        Assert.Equal("Name", view.Columns[0].PropertyName);
        Assert.Equal("$_.Gpus.Count", view.Columns[1].ScriptBlock);
        Assert.Null(view.Columns[1].PropertyName);
    }

    [Fact]
    public void Finds_the_view_for_the_most_derived_type_name_that_has_one()
    {
        var views = new FormatViews(FormatViews.Parse(XDocument.Parse(SampleXml)));

        Assert.Equal("Container", views.Find(["Ds01.Test.Derived", "Ds01.Test.Container", "System.Object"])?.Name);
        Assert.Null(views.Find(["Ds01.Test.Other", "System.Object"]));
    }

    [Fact]
    public void Skips_unreadable_files_and_reports_them()
    {
        var bad = Path.Combine(Path.GetTempPath(), $"ds01-bad-{Guid.NewGuid():N}.format.ps1xml");
        var good = Path.Combine(Path.GetTempPath(), $"ds01-good-{Guid.NewGuid():N}.format.ps1xml");
        File.WriteAllText(bad, "<Configuration><not-closed>");
        File.WriteAllText(good, SampleXml);
        try
        {
            var failures = new List<string>();
            var views = FormatViews.Load([bad, good], (path, _) => failures.Add(path));

            Assert.Equal([bad], failures);
            Assert.Single(views.Views);
        }
        finally
        {
            File.Delete(bad);
            File.Delete(good);
        }
    }

    [Fact]
    public void The_shipped_module_format_files_parse()
    {
        var moduleDir = Path.Combine(RepoPaths.Root, "module");
        foreach (var file in Directory.GetFiles(moduleDir, "*.format.ps1xml", SearchOption.AllDirectories))
        {
            var views = FormatViews.Parse(XDocument.Load(file));
            Assert.All(views, v => Assert.NotEmpty(v.Columns));
        }
    }
}

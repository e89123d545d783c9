using System.Xml.Linq;
using Ds01.Tools.HelpGen;
using Xunit;

namespace Ds01.Tests.Unit.Help;

/// <summary>HelpGen on a small page: the markdown sections land in the MAML elements Get-Help reads.</summary>
public class HelpGenTests
{
    private const string Page = """
        ---
        external help file: Ds01.PowerShell.dll-Help.xml
        Module Name: Ds01
        ---

        # Get-Thing

        ## SYNOPSIS
        Gets a thing.

        ## SYNTAX

        ### ByName (Default)
        ```
        Get-Thing [-Name] <String[]> [-Fast] [<CommonParameters>]
        ```

        ### ById
        ```
        Get-Thing -Id <Int32> [<CommonParameters>]
        ```

        ## DESCRIPTION
        Gets things with **care**.

        Second paragraph with `code`.

        ## EXAMPLES

        ### Example 1: One thing
        ```powershell
        Get-Thing a
        ```

        Returns a.

        ## PARAMETERS

        ### -Name
        The names.

        ```yaml
        Type: String[]
        Parameter Sets: ByName
        Aliases: N

        Required: True
        Position: 0
        Default value: None
        Accept pipeline input: True (ByPropertyName, ByValue)
        Accept wildcard characters: True
        ```

        ### -Id
        The id.

        ```yaml
        Type: Int32
        Parameter Sets: ById
        Aliases:

        Required: True
        Position: Named
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### -Fast
        Quickly.

        ```yaml
        Type: SwitchParameter
        Parameter Sets: (All)
        Aliases:

        Required: False
        Position: Named
        Default value: False
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### CommonParameters
        This cmdlet supports the common parameters.

        ## INPUTS

        ### System.String
        A name.

        ## OUTPUTS

        ### Thing
        The thing.

        ## NOTES
        A note.

        ## RELATED LINKS

        [Set-Thing](Set-Thing.md)

        [Online](https://example.org/thing)
        """;

    private static readonly XNamespace Maml = MamlWriter.Maml, Command = MamlWriter.Command, Dev = MamlWriter.Dev;

    private static XElement Generate() =>
        Assert.Single(MamlWriter.Write(new[] { MarkdownHelpParser.Parse(Page) }).Root!.Elements(Command + "command"));

    [Fact]
    public void The_root_is_a_maml_helpItems()
    {
        var root = MamlWriter.Write(new[] { MarkdownHelpParser.Parse(Page) }).Root!;
        Assert.Equal(XName.Get("helpItems", "http://msh"), root.Name);
        Assert.Equal("maml", root.Attribute("schema")?.Value);
    }

    [Fact]
    public void Details_carry_name_verb_noun_and_synopsis()
    {
        var details = Generate().Element(Command + "details")!;
        Assert.Equal("Get-Thing", details.Element(Command + "name")?.Value);
        Assert.Equal("Get", details.Element(Command + "verb")?.Value);
        Assert.Equal("Thing", details.Element(Command + "noun")?.Value);
        Assert.Equal("Gets a thing.", details.Element(Maml + "description")?.Element(Maml + "para")?.Value);
    }

    [Fact]
    public void Description_is_plain_paragraphs()
    {
        var paras = Generate().Element(Maml + "description")!.Elements(Maml + "para").Select(p => p.Value).ToList();
        Assert.Equal(new[] { "Gets things with care.", "Second paragraph with code." }, paras);
    }

    [Fact]
    public void Parameters_carry_their_yaml_as_attributes_and_elements()
    {
        var ps = Generate().Element(Command + "parameters")!.Elements(Command + "parameter").ToList();
        Assert.Equal(new[] { "Name", "Id", "Fast" }, ps.Select(p => p.Element(Maml + "name")?.Value));
        var name = ps[0];
        Assert.Equal("true", name.Attribute("required")?.Value);
        Assert.Equal("0", name.Attribute("position")?.Value);
        Assert.Equal("true", name.Attribute("globbing")?.Value);
        Assert.Equal("True (ByPropertyName, ByValue)", name.Attribute("pipelineInput")?.Value);
        Assert.Equal("N", name.Attribute("aliases")?.Value);
        Assert.Equal("The names.", name.Element(Maml + "description")?.Value);
        Assert.Equal("String[]", name.Element(Command + "parameterValue")?.Value);
        Assert.Equal("String[]", name.Element(Dev + "type")?.Element(Maml + "name")?.Value);
        Assert.Equal("None", name.Element(Dev + "defaultValue")?.Value);
        Assert.Equal("named", ps[1].Attribute("position")?.Value);
        Assert.Equal("false", ps[1].Attribute("globbing")?.Value);
    }

    [Fact]
    public void Each_syntax_item_holds_the_parameters_of_its_set()
    {
        var items = Generate().Element(Command + "syntax")!.Elements(Command + "syntaxItem")
            .Select(i => i.Elements(Command + "parameter").Select(p => p.Element(Maml + "name")!.Value).ToList()).ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal(new[] { "Name", "Fast" }, items[0]);
        Assert.Equal(new[] { "Id", "Fast" }, items[1]);
    }

    [Fact]
    public void A_switch_has_no_value_in_the_syntax()
    {
        var fast = Generate().Element(Command + "syntax")!.Elements(Command + "syntaxItem").First()
            .Elements(Command + "parameter").Single(p => p.Element(Maml + "name")!.Value == "Fast");
        Assert.Null(fast.Element(Command + "parameterValue"));
    }

    [Fact]
    public void Examples_inputs_outputs_notes_and_links()
    {
        var c = Generate();
        var example = Assert.Single(c.Element(Command + "examples")!.Elements(Command + "example"));
        Assert.Contains("Example 1: One thing", example.Element(Maml + "title")?.Value);
        Assert.Equal("Get-Thing a", example.Element(Dev + "code")?.Value);
        Assert.Equal("Returns a.", example.Element(Dev + "remarks")?.Element(Maml + "para")?.Value);
        Assert.Equal("System.String", c.Element(Command + "inputTypes")?.Element(Command + "inputType")?.Element(Dev + "type")?.Element(Maml + "name")?.Value);
        Assert.Equal("The thing.", c.Element(Command + "returnValues")?.Element(Command + "returnValue")?.Element(Maml + "description")?.Value);
        Assert.Equal("A note.", c.Element(Maml + "alertSet")?.Element(Maml + "alert")?.Value);
        var links = c.Element(Maml + "relatedLinks")!.Elements(Maml + "navigationLink")
            .Select(l => (l.Element(Maml + "linkText")!.Value, l.Element(Maml + "uri")!.Value)).ToList();
        Assert.Equal(new[] { ("Set-Thing", ""), ("Online", "https://example.org/thing") }, links);
    }

    [Theory]
    [InlineData("## SYNOPSIS", "## SYNOPSYS")]
    [InlineData("Type: Int32", "Typ: Int32")]
    [InlineData("Required: True\nPosition: 0", "Required: yes\nPosition: 0")]
    [InlineData("# Get-Thing", "Get-Thing")]
    public void A_malformed_page_is_an_error_naming_the_line(string from, string to)
    {
        var e = Assert.Throws<HelpFormatException>(() => MarkdownHelpParser.Parse(Page.Replace(from, to), "Get-Thing.md"));
        Assert.Equal("Get-Thing.md", e.File);
        Assert.True(e.Line >= 1);
    }

    [Fact]
    public void Angle_bracket_placeholders_stay_in_the_text()
    {
        var help = MarkdownHelpParser.Parse(Page.Replace("Second paragraph with `code`.", "Uses ds01-<uid>/<project>:latest and image:<name>._.<uid>."));
        Assert.Contains("Uses ds01-<uid>/<project>:latest and image:<name>._.<uid>.", help.Description);
    }

    [Fact]
    public void The_shipped_pages_keep_their_placeholders()
    {
        var page = Path.Combine(RepoPaths.Root, "docs", "cmdlets", "New-Ds01Container.md");
        var maml = MamlWriter.Write(new[] { MarkdownHelpParser.ParseFile(page) }).ToString();
        Assert.Contains("ds01-&lt;uid&gt;/&lt;project&gt;:latest", maml);
        Assert.DoesNotContain("ds01-/:latest", maml);
    }
}

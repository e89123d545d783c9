using System.Management.Automation;
using Ds01.Tools.HelpGen;
using Xunit;

namespace Ds01.Tests.Unit.Help;

/// <summary>The docs pages match the cmdlets the module really exports, and Get-Help serves them from the built MAML.</summary>
[Collection("engine")]
public class CmdletHelpTests
{
    private static string Docs => Path.Combine(RepoPaths.Root, "docs", "cmdlets");

    private static readonly Lazy<List<CmdletInfo>> Cmdlets = new(() =>
        PsEngine.Run("Get-Command -Module Ds01 -CommandType Cmdlet").Objects<CmdletInfo>().ToList());

    private static readonly Lazy<Dictionary<string, CommandHelp>> Pages = new(() =>
        Directory.GetFiles(Docs, "*.md").Select(MarkdownHelpParser.ParseFile).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase));

    public static TheoryData<string> CmdletNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cmdlets.Value) data.Add(c.Name);
        return data;
    }

    [Fact]
    public void Every_exported_cmdlet_has_a_page_and_every_page_an_exported_cmdlet()
    {
        var exported = Cmdlets.Value.Select(c => c.Name).Order(StringComparer.OrdinalIgnoreCase).ToList();
        Assert.NotEmpty(exported);
        Assert.Equal(exported, Pages.Value.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList());
        foreach (var name in exported) Assert.True(File.Exists(Path.Combine(Docs, name + ".md")), $"docs/cmdlets/{name}.md");
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void The_page_documents_exactly_the_cmdlets_parameters(string name)
    {
        var cmdlet = Cmdlets.Value.Single(c => c.Name == name);
        // WhatIf and Confirm stay: platyPS documents them on the page like any other parameter.
        var real = cmdlet.Parameters.Keys.Where(k => !Cmdlet.CommonParameters.Contains(k)).Order(StringComparer.OrdinalIgnoreCase).ToList();
        var documented = Pages.Value[name].Parameters.Select(p => p.Name).Order(StringComparer.OrdinalIgnoreCase).ToList();
        Assert.Equal(real, documented);
        Assert.True(Pages.Value[name].HasCommonParameters, $"{name}: no ### CommonParameters");
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Each_parameters_yaml_matches_the_cmdlet(string name)
    {
        var cmdlet = Cmdlets.Value.Single(c => c.Name == name);
        foreach (var doc in Pages.Value[name].Parameters)
        {
            var real = cmdlet.Parameters[doc.Name];
            var what = $"{name} -{doc.Name}";
            Assert.True(real.ParameterType.Name == doc.Type, $"{what}: Type {doc.Type}, really {real.ParameterType.Name}");
            var sets = real.ParameterSets;
            Assert.True(doc.Required == sets.Values.Any(s => s.IsMandatory), $"{what}: Required");
            var position = sets.Values.Select(s => s.Position).Max();
            Assert.True((position < 0 ? "Named" : position.ToString()) == doc.Position, $"{what}: Position {doc.Position}");
            var byValue = sets.Values.Any(s => s.ValueFromPipeline);
            var byProperty = sets.Values.Any(s => s.ValueFromPipelineByPropertyName);
            var pipeline = (byProperty, byValue) switch
            {
                (true, true) => "True (ByPropertyName, ByValue)",
                (true, false) => "True (ByPropertyName)",
                (false, true) => "True (ByValue)",
                _ => "False",
            };
            Assert.True(pipeline == doc.PipelineInput, $"{what}: Accept pipeline input {doc.PipelineInput}, really {pipeline}");
            Assert.True(real.Aliases.Order().SequenceEqual(doc.Aliases.Order()), $"{what}: Aliases");
            var docSets = doc.ParameterSets.Contains("(All)") ? new[] { "__AllParameterSets" } : doc.ParameterSets.ToArray();
            Assert.True(sets.Keys.Order().SequenceEqual(docSets.Order()), $"{what}: Parameter Sets {string.Join(",", doc.ParameterSets)}");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Each_page_has_description_examples_and_outputs(string name)
    {
        var page = Pages.Value[name];
        Assert.NotEmpty(page.Description);
        Assert.NotEmpty(page.Examples);
        Assert.All(page.Examples, e =>
        {
            Assert.NotEmpty(e.Code);
            Assert.NotEmpty(e.Remarks);
        });
        Assert.NotEmpty(page.Outputs);
    }

    [Fact]
    public void Get_Help_serves_the_synopsis_and_examples_of_the_page()
    {
        var r = PsEngine.Run("Get-Help New-Ds01Container -Full");
        Assert.Empty(r.Errors);
        var help = Assert.Single(r.Output);
        // Without MAML, Get-Help still answers, but with the generated syntax as synopsis and no examples.
        Assert.Equal(Pages.Value["New-Ds01Container"].Synopsis, help.Properties["Synopsis"].Value?.ToString()?.Trim());
        var examples = help.Properties["examples"]?.Value as PSObject;
        Assert.NotNull(examples);
        var list = LanguagePrimitives.GetEnumerable(((PSObject)examples!).Properties["example"].Value)?.Cast<object>().ToList();
        Assert.NotNull(list);
        Assert.NotEmpty(list!);
        Assert.Contains("New-Ds01Container thesis -GpuCount 1", ((PSObject)list![0]).Properties["code"].Value.ToString());
    }

    /// <summary>Get-Help through the real engine, for every exported cmdlet: what a user typing Get-Help sees.</summary>
    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Get_Help_gives_synopsis_examples_and_every_parameter_a_description(string name)
    {
        var r = PsEngine.Run($"Get-Help {name} -Full");
        Assert.Empty(r.Errors);
        var help = Assert.Single(r.Output);
        // Without MAML the synopsis is the generated syntax line, which starts with the cmdlet's name.
        var synopsis = help.Properties["Synopsis"].Value?.ToString()?.Trim() ?? "";
        Assert.False(synopsis.Length == 0 || synopsis.StartsWith(name, StringComparison.OrdinalIgnoreCase), $"{name}: synopsis '{synopsis}'");
        Assert.Equal(Pages.Value[name].Synopsis, synopsis);

        // Help's lists are a single object when they hold one item.
        static List<object> Items(object? value) =>
            LanguagePrimitives.GetEnumerable(value)?.Cast<object>().ToList() ?? (value is null ? [] : [value]);
        var examples = Items((help.Properties["examples"]?.Value as PSObject)?.Properties["example"]?.Value);
        Assert.True(examples.Count > 0, $"{name}: no examples in Get-Help");
        Assert.All(examples, e => Assert.False(string.IsNullOrWhiteSpace(((PSObject)e).Properties["code"].Value?.ToString()), $"{name}: an example without code"));
        Assert.Contains(examples, e => (((PSObject)e).Properties["code"].Value?.ToString() ?? "").Contains(name, StringComparison.OrdinalIgnoreCase));

        string Text(object? description) => string.Concat(Items(description).Select(d => (d as PSObject)?.Properties["Text"]?.Value?.ToString())).Trim();
        var documented = Items((help.Properties["parameters"]?.Value as PSObject)?.Properties["parameter"]?.Value).Cast<PSObject>()
            .ToDictionary(p => p.Properties["name"].Value.ToString()!, p => Text(p.Properties["description"]?.Value), StringComparer.OrdinalIgnoreCase);
        var cmdlet = Cmdlets.Value.Single(c => c.Name == name);
        foreach (var parameter in cmdlet.Parameters.Keys.Where(k => !Cmdlet.CommonParameters.Contains(k)))
        {
            Assert.True(documented.TryGetValue(parameter, out var text), $"{name} -{parameter}: not in Get-Help");
            Assert.False(string.IsNullOrWhiteSpace(text), $"{name} -{parameter}: no description in Get-Help");
        }
    }

    [Fact]
    public void Get_Help_about_Ds01_Gpu_returns_the_topic_text()
    {
        var r = PsEngine.Run("Get-Help about_Ds01_Gpu");
        Assert.Empty(r.Errors);
        var text = string.Concat(r.Output.Select(o => o.ToString()));
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "module", "en-US", "about_Ds01_Gpu.help.txt"));
        var firstLong = lines[Array.IndexOf(lines, "LONG DESCRIPTION") + 1].Trim();
        Assert.Contains(firstLong, text);
        Assert.Contains("gpu_hold_after_stop_minutes", text);
    }

    [Theory]
    [InlineData("about_Ds01")]
    [InlineData("about_Ds01_Containers")]
    [InlineData("about_Ds01_Gpu")]
    [InlineData("about_Ds01_Quotas")]
    [InlineData("about_Ds01_Images")]
    public void About_topics_have_the_classic_sections_and_name_themselves(string topic)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "module", "en-US", topic + ".help.txt"));
        Assert.Equal("TOPIC", lines[0]);
        Assert.Equal(topic, lines[1].Trim());
        var headings = lines.Where(l => l.Length > 0 && !char.IsWhiteSpace(l[0])).ToList();
        Assert.Equal(new[] { "TOPIC", "SHORT DESCRIPTION", "LONG DESCRIPTION", "EXAMPLES", "SEE ALSO" }, headings);
        // Get-Help pages long topics; keep them at the "concepts" tier's ~50 lines (SPEC 3.8).
        Assert.InRange(lines.Length, 30, 80);
    }
}

using System.Management.Automation;
using System.Reflection;
using System.Xml.Linq;
using Xunit;

namespace Ds01.Tests.Unit.Cmdlets;

/// <summary>Holds every cmdlet to DESIGN.md's conventions (PSScriptAnalyzer's rules, as reflection).</summary>
[Collection("engine")]
public class ConventionTests
{
    private static readonly Lazy<List<CmdletInfo>> Cmdlets = new(() =>
        PsEngine.Run("Get-Command -Module Ds01 -CommandType Cmdlet").Objects<CmdletInfo>().ToList());

    private static readonly HashSet<string> ApprovedVerbs = typeof(VerbsCommon).Assembly.GetTypes()
        .Where(t => t.Name.StartsWith("Verbs", StringComparison.Ordinal) && t.IsClass && t.IsAbstract && t.IsSealed)
        .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
        .Select(f => (string)f.GetValue(null)!).ToHashSet(StringComparer.Ordinal);

    // Verbs that change the system must support -WhatIf/-Confirm.
    private static readonly HashSet<string> StateChanging = new(StringComparer.Ordinal)
    {
        "New", "Set", "Remove", "Start", "Stop", "Suspend", "Resume", "Build", "Update", "Clear", "Install",
        "Uninstall", "Reset", "Register", "Unregister", "Add", "Rename", "Move", "Restart", "Enable", "Disable",
        "Import", "Export", "Publish", "Invoke", "Save", "Sync", "Submit", "Deny", "Grant", "Revoke", "Unblock", "Block",
    };

    // Plural-looking nouns that are singular in meaning.
    private static readonly HashSet<string> SingularEndingInS = new(StringComparer.Ordinal) { "Ds01ContainerStats", "Ds01Status", "Ds01SystemStatus" };

    [Fact]
    public void The_module_exports_cmdlets() => Assert.NotEmpty(Cmdlets.Value);

    [Fact]
    public void Every_cmdlet_uses_an_approved_verb_and_a_singular_Ds01_noun()
    {
        foreach (var c in Cmdlets.Value)
        {
            Assert.True(ApprovedVerbs.Contains(c.Verb), $"{c.Name}: '{c.Verb}' is not an approved verb");
            Assert.StartsWith("Ds01", c.Noun);
            Assert.True(!c.Noun.EndsWith("s", StringComparison.Ordinal) || SingularEndingInS.Contains(c.Noun), $"{c.Name}: plural noun");
        }
    }

    [Fact]
    public void Every_cmdlet_declares_its_output_type()
    {
        foreach (var c in Cmdlets.Value)
            Assert.True(c.ImplementingType.GetCustomAttributes(typeof(OutputTypeAttribute), false).Length > 0, $"{c.Name} has no [OutputType]");
    }

    [Fact]
    public void State_changing_cmdlets_support_ShouldProcess_and_Remove_is_high_impact()
    {
        foreach (var c in Cmdlets.Value.Where(c => StateChanging.Contains(c.Verb)))
        {
            var attr = (CmdletAttribute)c.ImplementingType.GetCustomAttributes(typeof(CmdletAttribute), false).Single();
            Assert.True(attr.SupportsShouldProcess, $"{c.Name} must support -WhatIf/-Confirm");
            if (c.Verb == "Remove") Assert.Equal(ConfirmImpact.High, attr.ConfirmImpact);
        }
    }

    [Fact]
    public void Each_parameter_set_has_at_most_one_ValueFromPipeline_parameter()
    {
        foreach (var c in Cmdlets.Value)
            foreach (var set in c.ParameterSets)
                Assert.True(set.Parameters.Count(p => p.ValueFromPipeline) <= 1, $"{c.Name} set {set.Name}");
    }

    [Fact]
    public void The_manifest_exports_exactly_the_cmdlet_types_in_the_assembly()
    {
        var assembly = Cmdlets.Value[0].ImplementingType.Assembly;
        var inAssembly = assembly.GetTypes()
            .Select(t => t.GetCustomAttribute<CmdletAttribute>())
            .Where(a => a is not null)
            .Select(a => $"{a!.VerbName}-{a.NounName}")
            .OrderBy(n => n).ToList();
        var exported = Cmdlets.Value.Select(c => c.Name).OrderBy(n => n).ToList();
        Assert.Equal(inAssembly, exported);
    }

    [Fact]
    public void Every_output_type_has_exactly_one_table_view()
    {
        var format = XDocument.Load(Path.Combine(RepoPaths.Root, "module", "Ds01.format.ps1xml"));
        var views = format.Descendants("View")
            .Where(v => v.Element("TableControl") is not null)
            .Select(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value).ToList();
        Assert.Equal(views.Count, views.Distinct().Count());
        var outputTypes = Cmdlets.Value
            .SelectMany(c => c.ImplementingType.GetCustomAttributes(typeof(OutputTypeAttribute), false).Cast<OutputTypeAttribute>())
            .SelectMany(a => a.Type).Select(t => t.Type).Where(t => t is not null && t.Namespace?.StartsWith("Ds01", StringComparison.Ordinal) == true)
            .Select(t => t!.FullName!).Distinct();
        foreach (var t in outputTypes) Assert.Contains(t, views);
    }
}

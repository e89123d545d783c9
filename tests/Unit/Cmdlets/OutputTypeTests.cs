using System.Collections;
using System.Management.Automation;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Ds01.Tests.Unit.Cmdlets;

/// <summary>
/// Every output type of every exported cmdlet ([OutputType], found by reflection, so types added later are covered
/// too) is rendered by the real engine as a pwsh user sees it: its table view at 80 columns, Export-Csv and
/// ConvertTo-Json. Sample objects are filled by reflection with a value in every public property.
/// </summary>
[Collection("engine")]
public class OutputTypeTests
{
    private static readonly Lazy<IReadOnlyList<Type>> OutputTypes = new(() => PsEngine.Run(
            "(Get-Command -Module Ds01 -CommandType Cmdlet).OutputType.Type | Sort-Object FullName -Unique")
        .Objects<Type>().Where(t => t.FullName!.StartsWith("Ds01.", StringComparison.Ordinal)).ToList());

    private static readonly XDocument FormatFile = XDocument.Load(Path.Combine(RepoPaths.Root, "module", "Ds01.format.ps1xml"));

    public static TheoryData<string> OutputTypeNames()
    {
        var data = new TheoryData<string>();
        foreach (var t in OutputTypes.Value) data.Add(t.FullName!);
        return data;
    }

    [Fact]
    public void The_cmdlets_declare_Ds01_output_types() => Assert.True(OutputTypes.Value.Count >= 5, "too few output types found");

    [Fact]
    public void Every_table_view_serves_an_output_type()
    {
        var names = OutputTypes.Value.Select(t => t.FullName).ToHashSet();
        foreach (var (type, _) in TableViews())
            Assert.True(names.Contains(type), $"the view for {type} selects a type no cmdlet declares in [OutputType]");
    }

    [Theory]
    [MemberData(nameof(OutputTypeNames))]
    public void The_table_view_shows_every_column_and_fits_80_columns(string typeName)
    {
        var type = Find(typeName);
        var labels = TableViews().Where(v => v.Type == typeName).Select(v => v.Labels).FirstOrDefault();
        Assert.True(labels is not null, $"{typeName} has no table view in module/Ds01.format.ps1xml");

        var r = Run("$samples | Format-Table | Out-String -Width 80", type);
        Assert.Empty(r.Errors);
        var lines = string.Concat(r.Output.Select(o => o.BaseObject)).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"line wider than 80 columns: '{l}'"));
        var header = lines.First(l => l.Trim().Length > 0);
        foreach (var label in labels!)
            Assert.True(Regex.IsMatch(header, $@"(^|\s){Regex.Escape(label)}(\s|$)"), $"{typeName}: column '{label}' missing from '{header}'");
        var rows = lines.SkipWhile(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)).Skip(1).Where(l => l.Trim().Length > 0).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.All(rows, row => Assert.DoesNotContain("Ds01.Core", row));
    }

    [Theory]
    [MemberData(nameof(OutputTypeNames))]
    public void Export_Csv_writes_values_not_type_names(string typeName)
    {
        var type = Find(typeName);
        var csv = Path.Combine(Path.GetTempPath(), $"ds01-csv-{Guid.NewGuid():N}.csv");
        try
        {
            var r = Run($"$samples | Export-Csv -Path '{csv}'; Import-Csv -Path '{csv}'", type);
            Assert.Empty(r.Errors);
            Assert.Equal(2, r.Output.Count);
            var text = File.ReadAllText(csv);
            Assert.DoesNotContain("System.Object[]", text);
            Assert.DoesNotContain("System.Collections", text);
            Assert.DoesNotContain("System.String[]", text);
            Assert.DoesNotContain("Ds01.Core", text);
            var header = text.Split('\n')[0];
            foreach (var p in PublicProperties(type))
                Assert.Contains($"\"{p.Name}\"", header);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Theory]
    [MemberData(nameof(OutputTypeNames))]
    public void ConvertTo_Json_writes_ISO_dates_and_enum_names(string typeName)
    {
        var type = Find(typeName);
        var r = Run("ConvertTo-Json -InputObject $samples[0] -Depth 3", type);
        Assert.Empty(r.Errors);
        var json = JsonDocument.Parse((string)r.Output.Single().BaseObject).RootElement;
        foreach (var p in PublicProperties(type))
        {
            var value = json.GetProperty(p.Name);
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            if (t.IsEnum)
            {
                Assert.Equal(JsonValueKind.String, value.ValueKind);
                Assert.True(Enum.IsDefined(t, Enum.Parse(t, value.GetString()!)), $"{p.Name}: '{value}' is not a name of {t.Name}");
                Assert.Equal(Sample(p.PropertyType, p.Name, 0)!.ToString(), value.GetString());
            }
            else if (t == typeof(DateTime) || t == typeof(DateTimeOffset))
                Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", value.GetString());
        }
    }

    // --- samples -------------------------------------------------------------------------------------------------

    private static Type Find(string name) => OutputTypes.Value.Single(t => t.FullName == name);

    private static IEnumerable<PropertyInfo> PublicProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0);

    private static PsResult Run(string script, Type type) =>
        PsEngine.Run(script, variables: new Dictionary<string, object?> { ["samples"] = new[] { Build(type, 0), Build(type, 1) } });

    /// <summary>An instance with every settable public property given a typical, non-default value.</summary>
    private static object Build(Type type, int n)
    {
        var o = Activator.CreateInstance(type)!;
        foreach (var p in PublicProperties(type).Where(p => p.SetMethod is { IsPublic: true }))
            p.SetValue(o, Sample(p.PropertyType, p.Name, n));
        return o;
    }

    private static object? Sample(Type type, string name, int n)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return name.Length > 6 ? name[..6].ToLowerInvariant() + n : name.ToLowerInvariant() + n;
        if (t == typeof(bool)) return true;
        if (t == typeof(int)) return 3 + n;
        if (t == typeof(long)) return 1_073_741_824L + n;
        if (t == typeof(double)) return 0.5 + n;
        if (t == typeof(DateTimeOffset)) return new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddDays(n);
        if (t == typeof(DateTime)) return new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddDays(n);
        if (t == typeof(TimeSpan)) return TimeSpan.FromMinutes(62 + n);
        if (t.IsEnum) return Enum.GetValues(t).GetValue(Enum.GetValues(t).Length - 1);
        if (t == typeof(string[])) return new[] { "a" + n, "b" + n };
        if (typeof(IDictionary).IsAssignableFrom(t) || t.Name.StartsWith("IReadOnlyDictionary", StringComparison.Ordinal))
            return new Dictionary<string, string> { ["k" + n] = "v" };
        return null;
    }

    private static IEnumerable<(string Type, string[] Labels)> TableViews()
    {
        foreach (var view in FormatFile.Descendants("View").Where(v => v.Element("TableControl") is not null))
        {
            var labels = view.Element("TableControl")!.Element("TableHeaders")!.Elements("TableColumnHeader")
                .Zip(view.Descendants("TableColumnItem"), (h, i) => h.Element("Label")?.Value ?? i.Element("PropertyName")?.Value ?? "")
                .ToArray();
            foreach (var type in view.Element("ViewSelectedBy")!.Elements("TypeName")) yield return (type.Value.Trim(), labels);
        }
    }
}

using System.Collections;
using System.Management.Automation;
using System.Text;

namespace Ds01.Cli;

/// <summary>
/// Renders Get-Help's objects as the familiar help text (the embedded engine has no Out-String or help views),
/// so `ds01 -c 'Get-Help New-Ds01Container -Full'` reads like pwsh's help.
/// </summary>
public static class HelpText
{
    public static bool IsHelp(object? item) =>
        item is PSObject ps && ps.TypeNames.Any(t => t.StartsWith("MamlCommandHelpInfo", StringComparison.Ordinal) || t == "HelpInfoShort");

    public static IReadOnlyList<string> Format(PSObject help)
    {
        var sb = new StringBuilder();
        void Section(string title, string? body)
        {
            if (string.IsNullOrWhiteSpace(body)) return;
            sb.AppendLine(title);
            foreach (var line in body!.TrimEnd().Split('\n')) sb.AppendLine("    " + line.TrimEnd('\r'));
            sb.AppendLine();
        }

        Section("NAME", Text(Get(help, "Name")));
        Section("SYNOPSIS", Text(Get(help, "Synopsis")));
        Section("SYNTAX", string.Join("\n\n", Items(Get(Get(help, "syntax"), "syntaxItem")).Select(Syntax)));
        Section("DESCRIPTION", Paragraphs(Get(help, "description")));
        var parameters = Items(Get(Get(help, "parameters"), "parameter")).Select(p =>
            $"-{Text(Get(p, "name"))} <{Text(Get(Get(p, "type"), "name"))}>\n    {Paragraphs(Get(p, "description")).Replace("\n", "\n    ")}").ToList();
        Section("PARAMETERS", string.Join("\n\n", parameters));
        var examples = Items(Get(Get(help, "examples"), "example")).Select(e =>
            $"{Text(Get(e, "title")).Trim('-', ' ')}\n\n{Text(Get(e, "code"))}\n\n{Paragraphs(Get(e, "remarks"))}".TrimEnd()).ToList();
        Section("EXAMPLES", string.Join("\n\n", examples));
        Section("REMARKS", $"For more, run: Get-Help {Text(Get(help, "Name"))} -Full; concepts: Get-Help about_Ds01");
        return sb.ToString().TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
    }

    private static string Syntax(object? item)
    {
        var name = Text(Get(item, "name"));
        var parts = Items(Get(item, "parameter")).Select(p =>
        {
            var pname = Text(Get(p, "name"));
            var value = Text(Get(Get(p, "parameterValue"), null));
            var text = value.Length > 0 ? $"-{pname} <{value}>" : $"-{pname}";
            return string.Equals(Text(Get(p, "required")), "true", StringComparison.OrdinalIgnoreCase) ? text : $"[{text}]";
        });
        return $"{name} {string.Join(" ", parts)}";
    }

    private static string Paragraphs(object? value) =>
        string.Join("\n\n", Items(value).Select(p => Text(Get(p, "Text")) is { Length: > 0 } t ? t : Text(p)).Where(t => t.Length > 0));

    private static object? Get(object? o, string? name)
    {
        if (o is null) return null;
        if (name is null) return o;
        var ps = o as PSObject ?? PSObject.AsPSObject(o);
        return ps.Properties[name]?.Value;
    }

    private static IEnumerable<object?> Items(object? o) => o switch
    {
        null => [],
        string s => [s],
        PSObject { BaseObject: IEnumerable e and not string } => e.Cast<object?>(),
        IEnumerable e => e.Cast<object?>(),
        _ => [o],
    };

    private static string Text(object? o) => o switch
    {
        null => "",
        PSObject ps when ps.BaseObject is string s => s,
        PSObject ps when ps.Properties["Text"]?.Value is { } t => Text(t),
        _ => o.ToString() ?? "",
    };
}

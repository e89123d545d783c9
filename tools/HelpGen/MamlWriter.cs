using System.Xml.Linq;

namespace Ds01.Tools.HelpGen;

/// <summary>Writes MAML the way platyPS's New-ExternalHelp does, which is what Get-Help reads for binary cmdlets.</summary>
public static class MamlWriter
{
    public static readonly XNamespace Msh = "http://msh";
    public static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    public static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    public static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    public static readonly XNamespace MsHelp = "http://msdn.microsoft.com/mshelp";

    public static XDocument Write(IEnumerable<CommandHelp> commands) => new(
        new XDeclaration("1.0", "utf-8", null),
        new XElement(Msh + "helpItems",
            new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XAttribute(XNamespace.Xmlns + "MSHelp", MsHelp),
            commands.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Select(Command_)));

    private static XElement Command_(CommandHelp c) => new(Command + "command",
        new XElement(Command + "details",
            new XElement(Command + "name", c.Name),
            new XElement(Command + "verb", c.Verb),
            new XElement(Command + "noun", c.Noun),
            Description(new[] { c.Synopsis })),
        Description(c.Description),
        new XElement(Command + "syntax", c.Syntax.Select(s => SyntaxItem(c, s))),
        new XElement(Command + "parameters", c.Parameters.Select(p => Parameter(p, inSyntax: false))),
        new XElement(Command + "inputTypes", c.Inputs.Select(t => new XElement(Command + "inputType", Type(t)))),
        new XElement(Command + "returnValues", c.Outputs.Select(t => new XElement(Command + "returnValue", Type(t)))),
        new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paras(c.Notes))),
        new XElement(Command + "examples", c.Examples.Select(Example)),
        new XElement(Maml + "relatedLinks", c.RelatedLinks.Select(l => new XElement(Maml + "navigationLink",
            new XElement(Maml + "linkText", l.Text),
            new XElement(Maml + "uri", l.Uri)))));

    private static XElement SyntaxItem(CommandHelp c, SyntaxSet set) => new(Command + "syntaxItem",
        new XElement(Maml + "name", c.Name),
        // "__AllParameterSets" is platyPS's name for the only set of a cmdlet that declares none.
        c.Parameters.Where(p => set.Name == "__AllParameterSets" || p.InSet(set.Name)).Select(p => Parameter(p, inSyntax: true)));

    private static XElement Parameter(ParameterHelp p, bool inSyntax) => new(Command + "parameter",
        new XAttribute("required", p.Required ? "true" : "false"),
        new XAttribute("variableLength", "true"),
        new XAttribute("globbing", p.Globbing ? "true" : "false"),
        new XAttribute("pipelineInput", p.PipelineInput),
        new XAttribute("position", int.TryParse(p.Position, out var n) ? n.ToString() : "named"),
        new XAttribute("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases)),
        new XElement(Maml + "name", p.Name),
        Description(p.Description),
        // Get-Help shows "-Name <String>" from parameterValue; a switch takes no value, so syntax omits it.
        inSyntax && p.IsSwitch ? null : new XElement(Command + "parameterValue",
            new XAttribute("required", p.IsSwitch ? "false" : "true"),
            new XAttribute("variableLength", "false"),
            p.Type),
        new XElement(Dev + "type", new XElement(Maml + "name", p.Type), new XElement(Maml + "uri")),
        new XElement(Dev + "defaultValue", p.DefaultValue));

    private static IEnumerable<XElement> Type(TypeHelp t) =>
    [
        new XElement(Dev + "type", new XElement(Maml + "name", t.Name)),
        Description(t.Description),
    ];

    private static XElement Example(ExampleHelp e, int index) => new(Command + "example",
        new XElement(Maml + "title", $"--------- {e.Title} ---------"),
        new XElement(Dev + "code", string.Join("\n\n", e.Code)),
        new XElement(Dev + "remarks", Paras(e.Remarks)));

    private static XElement Description(IEnumerable<string> paragraphs) => new(Maml + "description", Paras(paragraphs));

    private static IEnumerable<XElement> Paras(IEnumerable<string> paragraphs)
    {
        var list = paragraphs.ToList();
        return list.Count == 0 ? [new XElement(Maml + "para")] : list.Select(p => new XElement(Maml + "para", p));
    }
}

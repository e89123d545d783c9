using System.Text;
using Markdig;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Ds01.Tools.HelpGen;

/// <summary>
/// Reads one platyPS-format page (the layout New-MarkdownHelp writes) into a <see cref="CommandHelp"/>.
/// Sections are recognised by their H2 titles; anything the format does not define is an error, so a typo in a
/// heading fails the build instead of silently dropping help text.
/// </summary>
public static class MarkdownHelpParser
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().Build();

    private static readonly string[] Sections =
        ["SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS"];

    public static CommandHelp ParseFile(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    public static CommandHelp Parse(string markdown, string file = "<markdown>")
    {
        var doc = Markdown.Parse(markdown, Pipeline);
        var help = new CommandHelp();
        string? section = null;
        ExampleHelp? example = null;
        ParameterHelp? parameter = null;
        string? syntaxSet = null;
        string? typeName = null;
        List<string>? typeText = null;
        var inCommon = false;

        void FlushType()
        {
            if (typeName is null) return;
            (section == "INPUTS" ? help.Inputs : help.Outputs).Add(new TypeHelp(typeName, typeText!));
            typeName = null;
        }

        foreach (var block in doc)
        {
            var line = block.Line + 1;
            switch (block)
            {
                case YamlFrontMatterBlock:
                    break;
                case HeadingBlock { Level: 1 } h:
                    help.Name = Text(h.Inline).Trim();
                    break;
                case HeadingBlock { Level: 2 } h:
                    FlushType();
                    section = Text(h.Inline).Trim().ToUpperInvariant();
                    if (!Sections.Contains(section)) throw new HelpFormatException(file, line, $"unknown section '## {section}'");
                    example = null; parameter = null; syntaxSet = null; inCommon = false;
                    break;
                case HeadingBlock { Level: 3 } h:
                {
                    var title = Text(h.Inline).Trim();
                    switch (section)
                    {
                        case "SYNTAX": syntaxSet = title; break;
                        case "EXAMPLES":
                            example = new ExampleHelp { Title = title };
                            help.Examples.Add(example);
                            break;
                        case "PARAMETERS":
                            inCommon = title.Equals("CommonParameters", StringComparison.OrdinalIgnoreCase);
                            help.HasCommonParameters |= inCommon;
                            if (inCommon) { parameter = null; break; }
                            if (!title.StartsWith('-')) throw new HelpFormatException(file, line, $"parameter heading '{title}' must start with '-'");
                            parameter = new ParameterHelp { Name = title[1..] };
                            help.Parameters.Add(parameter);
                            break;
                        case "INPUTS" or "OUTPUTS":
                            FlushType();
                            typeName = title;
                            typeText = new List<string>();
                            break;
                        default: throw new HelpFormatException(file, line, $"'### {title}' is not expected under ## {section}");
                    }
                    break;
                }
                case FencedCodeBlock code:
                {
                    var text = code.Lines.ToString().TrimEnd();
                    switch (section)
                    {
                        case "SYNTAX":
                            if (syntaxSet is null) throw new HelpFormatException(file, line, "a syntax block needs a '### SetName' heading");
                            var isDefault = syntaxSet.EndsWith("(Default)", StringComparison.OrdinalIgnoreCase);
                            var name = isDefault ? syntaxSet[..^"(Default)".Length].Trim() : syntaxSet;
                            help.Syntax.Add(new SyntaxSet(name, text, isDefault));
                            break;
                        case "EXAMPLES":
                            (example ?? throw new HelpFormatException(file, line, "example code needs a '### Example N: title' heading")).Code.Add(text);
                            break;
                        case "PARAMETERS" when parameter is not null:
                            ReadParameterYaml(parameter, text, file, line);
                            break;
                        case "PARAMETERS" when inCommon:
                            break;
                        default:
                            throw new HelpFormatException(file, line, $"a code block is not expected under ## {section}");
                    }
                    break;
                }
                default:
                {
                    var paragraphs = Paragraphs(block).ToList();
                    switch (section)
                    {
                        case null: throw new HelpFormatException(file, line, "text before the first section");
                        case "SYNOPSIS": help.Synopsis = string.Join(" ", new[] { help.Synopsis }.Concat(paragraphs).Where(p => p.Length > 0)); break;
                        case "DESCRIPTION": help.Description.AddRange(paragraphs); break;
                        case "EXAMPLES":
                            (example ?? throw new HelpFormatException(file, line, "example text needs a '### Example N: title' heading")).Remarks.AddRange(paragraphs);
                            break;
                        case "PARAMETERS": parameter?.Description.AddRange(paragraphs); break;
                        case "INPUTS" or "OUTPUTS":
                            if (typeText is null) throw new HelpFormatException(file, line, $"text under ## {section} needs a '### TypeName' heading");
                            typeText.AddRange(paragraphs);
                            break;
                        case "NOTES": help.Notes.AddRange(paragraphs); break;
                        case "RELATED LINKS": help.RelatedLinks.AddRange(Links(block)); break;
                        case "SYNTAX": throw new HelpFormatException(file, line, "only '### SetName' and a code block belong under ## SYNTAX");
                    }
                    break;
                }
            }
        }
        FlushType();

        if (help.Name.Length == 0) throw new HelpFormatException(file, 1, "no '# Verb-Noun' title");
        if (help.Synopsis.Length == 0) throw new HelpFormatException(file, 1, "empty ## SYNOPSIS");
        if (help.Syntax.Count == 0) throw new HelpFormatException(file, 1, "no ## SYNTAX block");
        foreach (var p in help.Parameters.Where(p => p.Type.Length == 0))
            throw new HelpFormatException(file, 1, $"parameter -{p.Name} has no yaml block with a Type");
        return help;
    }

    /// <summary>The yaml block under a parameter: flat "Key: value" lines, as platyPS writes them.</summary>
    private static void ReadParameterYaml(ParameterHelp p, string yaml, string file, int line)
    {
        foreach (var raw in yaml.Split('\n'))
        {
            var l = raw.Trim();
            if (l.Length == 0) continue;
            var colon = l.IndexOf(':');
            if (colon <= 0) throw new HelpFormatException(file, line, $"-{p.Name}: '{l}' is not 'Key: value'");
            var key = l[..colon].Trim();
            var value = l[(colon + 1)..].Trim();
            switch (key)
            {
                case "Type": p.Type = value; break;
                case "Parameter Sets": p.ParameterSets.AddRange(List(value)); break;
                case "Aliases": p.Aliases.AddRange(List(value)); break;
                case "Required": p.Required = Bool(value, key); break;
                case "Position": p.Position = value; break;
                case "Default value": p.DefaultValue = value; break;
                case "Accept pipeline input": p.PipelineInput = value; break;
                case "Accept wildcard characters": p.Globbing = Bool(value, key); break;
                default: throw new HelpFormatException(file, line, $"-{p.Name}: unknown key '{key}'");
            }
        }
        if (p.ParameterSets.Count == 0) p.ParameterSets.Add("(All)");

        bool Bool(string value, string key) => value.ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new HelpFormatException(file, line, $"-{p.Name}: {key} must be True or False, not '{value}'"),
        };

        static IEnumerable<string> List(string value) =>
            value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(v => !v.Equals("None", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Help text is plain: paragraphs become one line each; list items become "- item" paragraphs.</summary>
    private static IEnumerable<string> Paragraphs(Block block)
    {
        switch (block)
        {
            case ParagraphBlock p:
                yield return Text(p.Inline).Trim();
                break;
            case ListBlock list:
                foreach (var item in list.OfType<ListItemBlock>())
                    yield return "- " + string.Join(" ", item.SelectMany(Paragraphs));
                break;
            case QuoteBlock q:
                foreach (var child in q) foreach (var s in Paragraphs(child)) yield return s;
                break;
            case CodeBlock c:
                yield return c.Lines.ToString().TrimEnd();
                break;
        }
    }

    private static IEnumerable<RelatedLink> Links(Block block)
    {
        var links = block switch
        {
            LeafBlock { Inline: { } inline } => inline.Descendants<LinkInline>(),
            ContainerBlock container => container.Descendants<LeafBlock>().Where(l => l.Inline is not null).SelectMany(l => l.Inline!.Descendants<LinkInline>()),
            _ => [],
        };
        foreach (var inline in links)
        {
            // platyPS keeps only absolute URIs; a link to a sibling page is resolved by name (Get-Help <name>).
            var uri = inline.Url ?? "";
            yield return new RelatedLink(Text(inline), uri.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? uri : "");
        }
    }

    private static string Text(ContainerInline? container)
    {
        var sb = new StringBuilder();
        Append(container?.FirstChild, sb);
        return sb.ToString();

        static void Append(Inline? inline, StringBuilder sb)
        {
            for (var i = inline; i is not null; i = i.NextSibling)
            {
                switch (i)
                {
                    case LiteralInline l: sb.Append(l.Content.ToString()); break;
                    case CodeInline c: sb.Append(c.Content); break;
                    case LineBreakInline: sb.Append(' '); break;
                    case HtmlEntityInline e: sb.Append(e.Transcoded.ToString()); break;
                    case AutolinkInline a: sb.Append(a.Url); break;
                    // CommonMark reads ds01-<uid>/<project> as raw HTML tags; in a help page they are placeholders to keep.
                    case HtmlInline h: sb.Append(h.Tag); break;
                    case ContainerInline c: Append(c.FirstChild, sb); break;
                }
            }
        }
    }
}

using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ds01.Core.Configuration;

/// <summary>
/// Reads one YAML file into nodes that keep their positions, and collects problems with file, line and column.
/// Shared by every config reader so their errors look the same.
/// </summary>
public sealed class YamlSource
{
    private readonly List<ConfigProblem> _problems;

    private YamlSource(string file, YamlNode? root, List<ConfigProblem> problems)
    {
        File = file;
        Root = root;
        _problems = problems;
    }

    public string File { get; }
    public YamlNode? Root { get; }
    public IReadOnlyList<ConfigProblem> Problems => _problems;

    /// <summary>Nesting deeper than this is refused before nodes are built (YamlDotNet builds them recursively).</summary>
    public const int MaxDepth = 64;

    /// <summary>Config files larger than this are refused rather than loaded.</summary>
    public const long MaxFileBytes = 1024 * 1024;

    public static YamlSource Load(string file, string text)
    {
        var problems = new List<ConfigProblem>();
        YamlNode? root = null;
        try
        {
            // The event parser keeps its own stack, so a file nested 100,000 deep is caught here instead of
            // overflowing the process stack when the node tree is built.
            if (!PreScan(file, text, problems, out var documents)) return new YamlSource(file, null, problems);
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
            // A file that exists but says nothing (empty, whitespace, comments, a bare '---') is more likely a
            // truncated copy or a failed edit than a wish for the defaults; a missing file keeps its meaning.
            if (documents == 0 || (root is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" } && root.Tag.IsEmpty))
            {
                problems.Add(Empty(file));
                root = null;
            }
        }
        catch (YamlException e)
        {
            var msg = e.InnerException?.Message ?? e.Message;
            // YamlDotNet prefixes its own position; ours is in the record already.
            var idx = msg.IndexOf("): ", StringComparison.Ordinal);
            if (msg.StartsWith("(", StringComparison.Ordinal) && idx > 0) msg = msg.Substring(idx + 3);
            problems.Add(new ConfigProblem(file, (int)e.Start.Line, (int)e.Start.Column, "YamlSyntax",
                $"YAML syntax error: {msg}"));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these instead of a YamlException on some broken text ("defaults: [" before a key on
            // the next line, " : ]"); it is still the file's fault, never a crash of the caller.
            problems.Add(new ConfigProblem(file, 1, 1, "YamlSyntax", $"YAML syntax error: the file cannot be parsed ({e.Message})"));
        }
        return new YamlSource(file, root, problems);
    }

    private static ConfigProblem Empty(string file) =>
        new(file, 1, 1, "ConfigFileEmpty",
            "the config file holds no YAML document (it is empty, or only whitespace and comments); an empty file is never read as the defaults",
            // resource-limits.yaml must exist; gpu-config.yaml and cluster.yaml are optional, so removing them is an answer too.
            Path.GetFileName(file) == "resource-limits.yaml"
                ? $"Write `defaults: {{}}` to {file} to mean the built-in defaults, or restore the file (config/resource-limits.yaml in the Ds01 sources)."
                : $"Write `{{}}` to {file} to mean the built-in defaults (or remove the file, which is optional), or restore the file.");

    /// <summary>Depth and document count from the event stream; false when the text must not be loaded.</summary>
    private static bool PreScan(string file, string text, List<ConfigProblem> problems, out int documents)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        documents = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart:
                    if (++depth > MaxDepth)
                    {
                        var at = parser.Current!.Start;
                        problems.Add(new ConfigProblem(file, (int)at.Line, (int)at.Column, "NestedTooDeep",
                            $"the YAML is nested more than {MaxDepth} levels deep here; a config file needs only a few"));
                        return false;
                    }
                    break;
                case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                    depth--;
                    break;
                case YamlDotNet.Core.Events.DocumentStart ds:
                    // A second document would be ignored silently; an admin who wrote one meant something by it.
                    if (++documents > 1)
                    {
                        problems.Add(new ConfigProblem(file, (int)ds.Start.Line, (int)ds.Start.Column, "MultipleDocuments",
                            "a second YAML document starts here ('---'); a config file is one document, so merge it into the first"));
                        return false;
                    }
                    break;
            }
        }
        return true;
    }

    /// <summary>
    /// The text of a config file, read without trusting the file (a directory, a FIFO, a huge or unreadable file);
    /// null with a problem at line 1, column 1 when it cannot be read.
    /// </summary>
    public static string? ReadFile(string file, List<ConfigProblem> problems)
    {
        try
        {
            return Posix.ReadBoundedText(file, MaxFileBytes);
        }
        catch (UntrustedFileException e)
        {
            problems.Add(new ConfigProblem(file, 1, 1, "ConfigFileUnreadable", $"the config file cannot be read: {e.Reason}"));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(new ConfigProblem(file, 1, 1, "ConfigFileUnreadable", $"the config file cannot be read: {e.Message}"));
            return null;
        }
    }

    /// <summary>Reads and parses a file; any problem at all (unreadable included) throws.</summary>
    public static T ParseFile<T>(string file, Func<YamlSource, T?> read) where T : class
    {
        var problems = new List<ConfigProblem>();
        var text = ReadFile(file, problems);
        if (text is null) throw new ConfigException(problems);
        return Parse(file, text, read);
    }

    /// <summary>Every problem of a file, an unreadable file included, without throwing.</summary>
    public static IReadOnlyList<ConfigProblem> ValidateFile<T>(string file, Func<YamlSource, T?> read) where T : class
    {
        var problems = new List<ConfigProblem>();
        var text = ReadFile(file, problems);
        return text is null ? problems : Validate(file, text, read);
    }

    /// <summary>Reads a file with <paramref name="read"/>; any problem at all throws, so a broken file never yields defaults.</summary>
    public static T Parse<T>(string file, string text, Func<YamlSource, T?> read) where T : class
    {
        var src = Load(file, text);
        var result = read(src);
        if (src.Problems.Count > 0 || result is null) throw new ConfigException(src.Problems.ToList());
        return result;
    }

    public static IReadOnlyList<ConfigProblem> Validate<T>(string file, string text, Func<YamlSource, T?> read) where T : class
    {
        var src = Load(file, text);
        read(src);
        return src.Problems;
    }

    public void Problem(YamlNode node, string code, string message) =>
        _problems.Add(new ConfigProblem(File, (int)node.Start.Line, (int)node.Start.Column, code, message));

    public void ProblemAtFile(string code, string message) =>
        _problems.Add(new ConfigProblem(File, 1, 1, code, message));

    /// <summary>The root as a mapping; null after a problem (an empty file is ConfigFileEmpty, found by Load).</summary>
    public YamlMappingNode? RootMapping()
    {
        if (Root is null) return null;
        if (Root is YamlMappingNode m) return m;
        Problem(Root, "WrongType", "the top level must be a mapping of keys to values");
        return null;
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode s && s.Style == ScalarStyle.Plain &&
        (s.Value is null || s.Value == "" || s.Value == "~" || s.Value.Equals("null", StringComparison.OrdinalIgnoreCase));

    public IEnumerable<(string Key, YamlScalarNode KeyNode, YamlNode Value)> Entries(YamlMappingNode map)
    {
        foreach (var kv in map.Children)
        {
            if (kv.Key is not YamlScalarNode k || k.Value is null)
            {
                Problem(kv.Key, "WrongType", "keys must be plain names");
                continue;
            }
            yield return (k.Value, k, kv.Value);
        }
    }

    public YamlMappingNode? AsMapping(YamlNode node, string what)
    {
        if (node is YamlMappingNode m) return m;
        if (IsNull(node)) return new YamlMappingNode();
        Problem(node, "WrongType", $"{what} must be a mapping (key: value lines)");
        return null;
    }

    public string? AsString(YamlNode node, string what)
    {
        if (node is YamlScalarNode s && !IsNull(node)) return s.Value;
        Problem(node, "WrongType", $"{what} must be a text value");
        return null;
    }

    public List<string>? AsStringList(YamlNode node, string what)
    {
        if (IsNull(node)) return new List<string>();
        if (node is not YamlSequenceNode seq)
        {
            Problem(node, "WrongType", $"{what} must be a list (- item lines or [a, b])");
            return null;
        }
        var list = new List<string>();
        foreach (var item in seq.Children)
        {
            if (item is YamlScalarNode s && !IsNull(item)) list.Add(s.Value!);
            else Problem(item, "WrongType", $"each entry of {what} must be a text value");
        }
        return list;
    }

    public static bool TryNumber(YamlNode node, out double value)
    {
        value = 0;
        return node is YamlScalarNode s && s.Style == ScalarStyle.Plain && s.Value is not null &&
               double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out value) &&
               !double.IsNaN(value) && !double.IsInfinity(value);
    }

    public static bool TryBool(YamlNode node, out bool value)
    {
        value = false;
        if (node is not YamlScalarNode s || s.Style != ScalarStyle.Plain || s.Value is null) return false;
        switch (s.Value.ToLowerInvariant())
        {
            case "true": case "yes": case "on": value = true; return true;
            case "false": case "no": case "off": value = false; return true;
            default: return false;
        }
    }
}

namespace Ds01.Tools.HelpGen;

/// <summary>One cmdlet's help as a platyPS markdown page describes it.</summary>
public sealed class CommandHelp
{
    public string Name { get; set; } = "";
    public string Synopsis { get; set; } = "";
    public List<string> Description { get; } = new();
    public List<SyntaxSet> Syntax { get; } = new();
    public List<ExampleHelp> Examples { get; } = new();
    public List<ParameterHelp> Parameters { get; } = new();
    public bool HasCommonParameters { get; set; }
    public List<TypeHelp> Inputs { get; } = new();
    public List<TypeHelp> Outputs { get; } = new();
    public List<string> Notes { get; } = new();
    public List<RelatedLink> RelatedLinks { get; } = new();

    public string Verb => Name.Split('-', 2)[0];
    public string Noun => Name.Contains('-') ? Name.Split('-', 2)[1] : "";
}

public sealed record SyntaxSet(string Name, string Text, bool IsDefault);

public sealed class ExampleHelp
{
    public string Title { get; set; } = "";
    public List<string> Code { get; } = new();
    public List<string> Remarks { get; } = new();
}

public sealed class ParameterHelp
{
    public string Name { get; set; } = "";
    public List<string> Description { get; } = new();
    public string Type { get; set; } = "";
    /// <summary>Set names, or "(All)".</summary>
    public List<string> ParameterSets { get; } = new();
    public List<string> Aliases { get; } = new();
    public bool Required { get; set; }
    /// <summary>A number, or "Named".</summary>
    public string Position { get; set; } = "Named";
    public string DefaultValue { get; set; } = "None";
    /// <summary>As platyPS writes it: "False", "True (ByValue)", "True (ByPropertyName)", "True (ByPropertyName, ByValue)".</summary>
    public string PipelineInput { get; set; } = "False";
    public bool Globbing { get; set; }
    public bool IsSwitch => Type.Equals("SwitchParameter", StringComparison.OrdinalIgnoreCase);

    public bool InSet(string set) => ParameterSets.Any(s => s == "(All)" || s.Equals(set, StringComparison.OrdinalIgnoreCase));
}

public sealed record TypeHelp(string Name, IReadOnlyList<string> Description);

public sealed record RelatedLink(string Text, string Uri);

/// <summary>A page that does not follow the format; carries the file and line so the build error points at it.</summary>
public sealed class HelpFormatException(string file, int line, string message) : Exception($"{file}({line}): {message}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
}

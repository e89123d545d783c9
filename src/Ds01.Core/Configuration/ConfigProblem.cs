namespace Ds01.Core.Configuration;

/// <summary>
/// One thing wrong in a config file, with the place a user must edit; <paramref name="RecommendedAction"/> when
/// "edit the file there" is not the whole answer (an empty file).
/// </summary>
public sealed record ConfigProblem(string File, int Line, int Column, string Code, string Message, string? RecommendedAction = null)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>A config that must not be used: every problem found, not just the first.</summary>
public sealed class ConfigException : Ds01Exception
{
    public ConfigException(IReadOnlyList<ConfigProblem> problems)
        : base(Ds01ErrorKind.InvalidData, problems.Count > 0 ? problems[0].Code : "InvalidConfig",
            problems.Count == 1 ? problems[0].ToString()
                : $"{problems.Count} problems in the configuration:{Environment.NewLine}  " +
                  string.Join(Environment.NewLine + "  ", problems.Select(p => p.ToString())),
            problems.Count > 0 ? problems[0].File : null,
            problems.Count > 0 && problems[0].RecommendedAction is { } action ? action
                : "Fix the file at the line and column given; Test-Ds01Config lists every problem.")
    {
        Problems = problems;
    }

    public IReadOnlyList<ConfigProblem> Problems { get; }
}

namespace Ds01.Cli.Seed;

public enum SeedFormat { Table, Json, Simple }

/// <summary>Which help a seed command was asked for: --help = Get-Help, --info = Get-Help -Full, --concepts = about topics.</summary>
public enum SeedHelp { None, Help, Info, Concepts }

/// <summary>
/// A seed command line read the seeds' way: bare words are positional values (the container or project name),
/// --flag=value binds a parameter, --flag alone is a switch. Values are bound, never spliced into PowerShell text.
/// </summary>
public sealed record SeedArguments(
    SeedCommand Command,
    IReadOnlyList<string> Positionals,
    IReadOnlyDictionary<string, object> Parameters,
    SeedFormat Format,
    SeedHelp Help)
{
    public static SeedArguments Parse(SeedCommand command, IReadOnlyList<string> args, bool json)
    {
        var positionals = new List<string>();
        var values = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var switches = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var format = json ? SeedFormat.Json : SeedFormat.Table;
        var help = SeedHelp.None;

        foreach (var arg in args)
        {
            if (!arg.StartsWith('-') || arg == "-") { positionals.Add(arg); continue; }
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new CliUsageException($"{command.Name}: options are written --name or --name=value, not '{arg}'");
            var eq = arg.IndexOf('=');
            var flag = eq < 0 ? arg[2..] : arg[2..eq];
            var value = eq < 0 ? null : arg[(eq + 1)..];
            switch (flag)
            {
                case "help" when value is null: help = SeedHelp.Help; continue;
                case "info" when value is null: help = SeedHelp.Info; continue;
                case "concepts" when value is null: help = SeedHelp.Concepts; continue;
                case "json" when value is null: format = SeedFormat.Json; continue;
                case "format":
                    format = value?.ToLowerInvariant() switch
                    {
                        "table" => SeedFormat.Table,
                        "json" => SeedFormat.Json,
                        "simple" => SeedFormat.Simple,
                        _ => throw new CliUsageException($"{command.Name}: --format takes table, json or simple, not '{value}'"),
                    };
                    continue;
                case "guided" when value is not null:
                    throw new CliUsageException($"{command.Name}: --guided takes no value");
                case "guided":
                    // The cmdlet's -Guided: the same steps and texts (Ds01.Core's GuidedFlows), asked through ds01's host.
                    if (Ds01.Core.Guidance.GuidedFlows.Find(command.Cmdlet) is null)
                        throw new CliUsageException($"{command.Name}: --guided is not available for this command; run '{command.Name} --help'");
                    switches.Add("Guided");
                    continue;
            }
            if (flag.Length == 0 || !flag.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                throw new CliUsageException($"{command.Name}: '{arg}' is not an option");
            var parameter = command.ParameterFor(flag);
            if (value is null) switches.Add(parameter);
            else (values.TryGetValue(parameter, out var list) ? list : values[parameter] = []).Add(value);
        }

        var parameters = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in switches) parameters[s] = true;
        foreach (var (name, list) in values)
            parameters[name] = list.Count == 1 ? list[0] : list.ToArray();
        foreach (var s in command.FixedSwitches) parameters[s] = true;
        return new SeedArguments(command, positionals, parameters, format, help);
    }

    /// <summary>True when the only parameters are ones <paramref name="allowed"/> names (for Core fast paths).</summary>
    public bool OnlyParameters(params string[] allowed) =>
        Parameters.Keys.All(k => allowed.Contains(k, StringComparer.OrdinalIgnoreCase));
}

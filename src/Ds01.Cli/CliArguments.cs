namespace Ds01.Cli;

/// <summary>What the command line asked for.</summary>
public enum CliMode { Usage, Help, Version, Script, Dispatch }

/// <summary>A command line that cannot be run; reported with the usage text and exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// The parsed command line. Options come first; the first bare word names a command and
/// everything after it belongs to that command, so its own dashes are never read as ours.
/// </summary>
public sealed record CliArguments(
    CliMode Mode,
    string? Script,
    string? CommandName,
    IReadOnlyList<string> CommandArguments,
    bool Json,
    bool Verbose)
{
    /// <summary>The usage text; its list of seed commands is SeedCatalog's, so it names every one.</summary>
    public static string UsageText { get; } = Usage();

    private static string Usage()
    {
        var families = Seed.SeedCatalog.All.Select(c => c.Name).GroupBy(n => n.Contains('-') ? n[..n.IndexOf('-')] : n)
            .Select(g => g.Count() > 1 ? g.Key + "-" + string.Join('|', g.Select(n => n[(g.Key.Length + 1)..])) : g.Single());
        var lines = new List<string>();
        var line = " ";
        foreach (var family in families)
        {
            if (line.Length + family.Length > 110) { lines.Add(line.TrimEnd()); line = " "; }
            line += " " + family + ",";
        }
        lines.Add(line.TrimEnd(','));
        return UsageHead + "\n\n" + "Seed commands (also as symlinks named like the command, e.g. container-list -> ds01):\n"
            + string.Join("\n", lines) + "\n" + UsageTail;
    }

    private const string UsageHead =
        """
        usage: ds01 [--json] [--verbose] -c '<PowerShell text>'
               ds01 [--json] [--verbose] <command> [arguments...]
               ds01 --help | --version

          -c, --command <text>  run PowerShell text with the Ds01 module loaded
          <command>             run a module command; arguments are passed as positional strings
          --json                print output objects as one JSON array
          --verbose             show verbose messages (on stderr)
          -h, --help            show this help
          --version             print the Ds01 module version
        """;

    private const string UsageTail =
        """
          e.g. ds01 container-create my-project --gpu=1;  ds01 container-list --format=table|json|simple
          each takes --help (Get-Help), --info (Get-Help -Full), --concepts (about topics)
          exit codes: 0 done, 1 failed, 2 usage error

        Errors go to stderr; the exit code is 1 when any error was written.
        ds01 never waits for input when stdin is not a terminal: pass -Force or -Confirm:$false.
        """;

    public static CliArguments Parse(IReadOnlyList<string> args)
    {
        string? script = null;
        bool json = false, verbose = false, help = false, version = false;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "-c" or "--command":
                    if (script is not null) throw new CliUsageException($"{arg} given more than once");
                    if (i + 1 >= args.Count) throw new CliUsageException($"{arg} needs the PowerShell text to run");
                    script = args[++i];
                    break;
                case "--json": json = true; break;
                case "--verbose": verbose = true; break;
                case "-h" or "--help": help = true; break;
                case "--version": version = true; break;
                default:
                    if (arg.StartsWith('-')) throw new CliUsageException($"unknown option '{arg}'");
                    if (script is not null) throw new CliUsageException($"unexpected argument '{arg}' after -c");
                    if (help || version) break;
                    return new CliArguments(CliMode.Dispatch, null, arg, args.Skip(i + 1).ToArray(), json, verbose);
            }
        }

        if (help) return new CliArguments(CliMode.Help, null, null, [], json, verbose);
        if (version) return new CliArguments(CliMode.Version, null, null, [], json, verbose);
        if (script is not null) return new CliArguments(CliMode.Script, script, null, [], json, verbose);
        return new CliArguments(CliMode.Usage, null, null, [], json, verbose);
    }
}

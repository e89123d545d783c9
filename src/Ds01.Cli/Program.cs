using System.Management.Automation.Runspaces;

namespace Ds01.Cli;

/// <summary>Entry point: parse, open the engine only when needed, map failures to exit codes.</summary>
public static class Program
{
    public const int UsageError = 2;

    public static int Main(string[] args)
    {
        var console = CliConsole.FromProcess();
        CliArguments parsed;
        try
        {
            parsed = CliArguments.Parse(args);
        }
        catch (CliUsageException ex)
        {
            console.Error.WriteLine($"ds01: {ex.Message}");
            console.Error.WriteLine(CliArguments.UsageText);
            return UsageError;
        }

        switch (parsed.Mode)
        {
            case CliMode.Help:
                console.Out.WriteLine(CliArguments.UsageText);
                return 0;
            case CliMode.Usage:
                console.Error.WriteLine(CliArguments.UsageText);
                return UsageError;
        }

        try
        {
            using var runner = CommandRunner.Open(console, CommandRunner.DefaultManifestPath, parsed.Verbose);
            return parsed.Mode switch
            {
                CliMode.Version => PrintVersion(console, runner),
                CliMode.Script => runner.RunScript(parsed.Script!, parsed.Json),
                _ => runner.RunCommand(parsed.CommandName!, parsed.CommandArguments, parsed.Json),
            };
        }
        catch (Exception ex) when (ex is FileNotFoundException or RunspaceOpenModuleLoadException)
        {
            console.Error.WriteLine($"ds01: cannot load the Ds01 module: {ex.Message}");
            return 1;
        }
    }

    private static int PrintVersion(CliConsole console, CommandRunner runner)
    {
        console.Out.WriteLine(runner.ModuleVersion?.ToString() ?? "unknown");
        return 0;
    }
}

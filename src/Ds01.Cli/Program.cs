using System.Management.Automation.Runspaces;
using System.Reflection;
using Ds01.Cli.Seed;

namespace Ds01.Cli;

/// <summary>Entry point: parse, open the engine only when needed, map failures to exit codes.</summary>
public static class Program
{
    public const int UsageError = 2;

    public static int Main(string[] args)
    {
        var console = CliConsole.FromProcess();
        // Installed as a symlink named like a seed command (container-list -> ds01): run that command.
        if (SeedCatalog.Find(InvokedName()) is { } invokedAs) args = [invokedAs.Name, .. args];
        CliArguments parsed;
        SeedArguments? seed = null;
        try
        {
            parsed = CliArguments.Parse(args);
            if (parsed.Mode == CliMode.Dispatch && SeedCatalog.Find(parsed.CommandName!) is { } command)
                seed = SeedArguments.Parse(command, parsed.CommandArguments, parsed.Json);
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
            case CliMode.Version:
                // The version every Ds01 assembly and the staged manifest carry (Directory.Build.props); no engine.
                console.Out.WriteLine(Version);
                return 0;
        }

        // A plain container-list answers through Core alone; the engine (and its assembly) is loaded only below.
        if (seed is not null && SeedRunner.TryWithoutEngine(console, seed, parsed.Verbose) is { } code) return code;
        return InEngine(console, parsed, seed);
    }

    // Its own method, so the JIT resolves the PowerShell engine's types only when a command needs the engine.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int InEngine(CliConsole console, CliArguments parsed, SeedArguments? seed)
    {
        try
        {
            using var runner = CommandRunner.Open(console, CommandRunner.DefaultManifestPath, parsed.Verbose);
            if (seed is not null) return SeedRunner.RunInEngine(runner, seed);
            return parsed.Mode switch
            {
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

    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(Program).Assembly.GetName().Version?.ToString(3) ?? "unknown";

    /// <summary>
    /// The name the program was started under (argv[0]), not the resolved executable: a symlink's own name.
    /// /proc/self/cmdline keeps it; .NET's own APIs report the apphost or ds01.dll.
    /// </summary>
    public static string InvokedName()
    {
        try
        {
            var cmdline = File.ReadAllText("/proc/self/cmdline");
            var argv0 = cmdline.Split('\0')[0];
            return Path.GetFileName(argv0);
        }
        catch (IOException) { return "ds01"; }
        catch (UnauthorizedAccessException) { return "ds01"; }
    }
}

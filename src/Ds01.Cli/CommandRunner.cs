using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Spectre.Console;

namespace Ds01.Cli;

// Inside Ds01.*, "PowerShell" would mean the Ds01.PowerShell namespace; name the engine's type.
using PowerShell = System.Management.Automation.PowerShell;

/// <summary>Where the runner writes, and how: fixed at start-up from the real console or a test's writers.</summary>
public sealed record CliConsole(TextWriter Out, TextWriter Error, TextReader In, bool Interactive, bool OutputIsTerminal, bool NoColor)
{
    public static CliConsole FromProcess() => new(
        Console.Out, Console.Error, Console.In,
        Interactive: !Console.IsInputRedirected,
        OutputIsTerminal: !Console.IsOutputRedirected,
        NoColor: !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")));
}

/// <summary>
/// Owns the embedded engine: a default runspace with the Ds01 module imported, one command run
/// in it, its streams routed to stdout/stderr and its output rendered. Returns the exit code.
/// </summary>
public sealed class CommandRunner : IDisposable
{
    private readonly CliConsole _console;
    private readonly CliHost _host;
    private readonly Runspace _runspace;
    private readonly PSModuleInfo? _module;

    private CommandRunner(CliConsole console, CliHost host, Runspace runspace, PSModuleInfo? module)
    {
        _console = console;
        _host = host;
        _runspace = runspace;
        _module = module;
    }

    public static string DefaultManifestPath => Path.Combine(AppContext.BaseDirectory, "Ds01.psd1");

    /// <summary>Opens the engine; a module that fails to import is an error, not a silently empty session.</summary>
    public static CommandRunner Open(CliConsole console, string manifestPath, bool verbose)
    {
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"module manifest not found: {manifestPath}", manifestPath);

        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(manifestPath);
        iss.ThrowOnRunspaceOpenError = true;

        var host = new CliHost(console.Out, console.Error, console.In, console.Interactive);
        var runspace = RunspaceFactory.CreateRunspace(host, iss);
        // One thread for everything, so format-view script blocks run where the command ran.
        runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        runspace.Open();
        if (verbose) runspace.SessionStateProxy.SetVariable("VerbosePreference", ActionPreference.Continue);

        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        var module = ps.AddCommand("Get-Module").AddParameter("Name", Path.GetFileNameWithoutExtension(manifestPath))
            .Invoke<PSModuleInfo>().FirstOrDefault();
        return new CommandRunner(console, host, runspace, module);
    }

    public Version? ModuleVersion => _module?.Version;

    public IReadOnlyList<string> FormatFiles => _module?.ExportedFormatFiles ?? [];

    /// <summary>Runs PowerShell text given with -c.</summary>
    public int RunScript(string script, bool json) => Run(ps => ps.AddScript(script), json);

    /// <summary>
    /// Runs a named command with string arguments. Arguments are bound as values, never spliced
    /// into PowerShell text, so a quote or semicolon in them cannot run anything.
    /// </summary>
    public int RunCommand(string name, IReadOnlyList<string> arguments, bool json)
    {
        // The seeds' monitoring command: `ds01 dashboard [refresh-seconds]` is Show-Ds01Dashboard -Watch.
        if (name == "dashboard")
            return Run(ps =>
            {
                ps.AddCommand("Show-Ds01Dashboard").AddParameter("Watch");
                if (arguments.Count > 0) ps.AddParameter("RefreshSec", arguments[0]);
            }, json);
        var command = _runspace.SessionStateProxy.InvokeCommand.GetCommand(
            name, CommandTypes.Alias | CommandTypes.Function | CommandTypes.Filter | CommandTypes.Cmdlet);
        if (command is null)
        {
            _console.Error.WriteLine($"ds01: unknown command '{name}'; run 'ds01 --help' or 'ds01 -c Get-Command'");
            return 1;
        }
        return Run(ps =>
        {
            ps.AddCommand(command);
            foreach (var argument in arguments) ps.AddArgument(argument);
        }, json);
    }

    private int Run(Action<PowerShell> build, bool json)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        build(ps);

        var errors = 0;
        // Stream handlers print as records arrive, so a long command shows its errors as it goes.
        ps.Streams.Error.DataAdded += (_, e) =>
        {
            errors++;
            ErrorWriter.Write(_console.Error, ps.Streams.Error[e.Index]);
        };
        ps.Streams.Information.DataAdded += (_, e) =>
        {
            var record = ps.Streams.Information[e.Index];
            // The engine itself writes records tagged PSHOST (Write-Host) through the host UI.
            if (record.Tags.Contains("PSHOST")) return;
            _console.Out.WriteLine(ValueText.Format(record.MessageData));
        };

        // Collect output as it arrives, so what came before a terminating error is still shown.
        var output = new List<object?>();
        var collector = new PSDataCollection<PSObject>();
        collector.DataAdded += (_, e) => output.Add(collector[e.Index]);
        try
        {
            ps.Invoke(null, collector);
        }
        catch (RuntimeException ex)
        {
            errors++;
            ErrorWriter.Write(_console.Error, ex.ErrorRecord);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            errors++;
            _console.Error.WriteLine($"ds01: {ex.Message}");
        }

        try
        {
            if (json) JsonRenderer.Write(_console.Out, output);
            else RenderTable(output);
        }
        finally
        {
            _console.Out.Flush();
            _console.Error.Flush();
        }

        if (_host.ExitCode is { } exit) return exit;
        return errors > 0 || ps.HadErrors ? 1 : 0;
    }

    private void RenderTable(IReadOnlyList<object?> output)
    {
        if (output.Count == 0) return;
        var views = FormatViews.Load(FormatFiles, (path, ex) =>
            _console.Error.WriteLine($"warning: cannot read format file {path}: {ex.Message}"));
        var renderer = new TableRenderer(views, new ScriptCellEvaluator(_runspace));
        var ascii = !_console.OutputIsTerminal;
        renderer.Render(output, CreateAnsiConsole(_console), _console.Out, ascii);
    }

    public static IAnsiConsole CreateAnsiConsole(CliConsole console)
    {
        var plain = !console.OutputIsTerminal;
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain || console.NoColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(console.Out),
            Interactive = InteractionSupport.No,
        });
        // A pipe has no width; without this Spectre wraps at 80 columns and splits rows scripts read.
        if (plain) ansi.Profile.Width = 4096;
        return ansi;
    }

    public void Dispose() => _runspace.Dispose();
}

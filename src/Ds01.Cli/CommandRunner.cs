using System.Management.Automation;
using System.Management.Automation.Runspaces;

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

        // Spectre's prompts read keys from the process's own terminal, so only when that is where the answers come from.
        var terminal = console.Interactive && ReferenceEquals(console.In, Console.In) && !Console.IsInputRedirected && !Console.IsErrorRedirected;
        var host = new CliHost(console.Out, console.Error, console.In, console.Interactive, terminal);
        var runspace = RunspaceFactory.CreateRunspace(host, iss);
        // One thread for everything, so format-view script blocks run where the command ran.
        runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        runspace.Open();
        if (verbose) runspace.SessionStateProxy.SetVariable("VerbosePreference", ActionPreference.Continue);
        if (!console.OutputIsTerminal || console.NoColor)
        {
            // A pipe or NO_COLOR gets no escape sequences in table headers, as in pwsh.
            using var style = PowerShell.Create();
            style.Runspace = runspace;
            style.AddScript("$PSStyle.OutputRendering = 'PlainText'").Invoke();
        }

        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        var module = ps.AddCommand("Get-Module").AddParameter("Name", Path.GetFileNameWithoutExtension(manifestPath))
            .Invoke<PSModuleInfo>().FirstOrDefault();
        return new CommandRunner(console, host, runspace, module);
    }

    public Version? ModuleVersion => _module?.Version;

    /// <summary>Runs PowerShell text given with -c.</summary>
    public int RunScript(string script, bool json) => Run(ps => ps.AddScript(script), output => Render(output, json));

    /// <summary>
    /// Runs a named command with string arguments. Arguments are bound as values, never spliced
    /// into PowerShell text, so a quote or semicolon in them cannot run anything.
    /// </summary>
    public int RunCommand(string name, IReadOnlyList<string> arguments, bool json)
    {
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
        }, output => Render(output, json));
    }

    /// <summary>Get-Help for a cmdlet or about topic (-Full when asked): the help every host shows, from one source.</summary>
    public int RunHelp(string name, bool full) => Run(ps =>
    {
        ps.AddCommand("Get-Help").AddParameter("Name", name);
        if (full) ps.AddParameter("Full");
    }, output => Render(output, json: false));

    /// <summary>
    /// Runs a seed command's cmdlet (and the one it pipes into, for container-deploy) with its values bound as
    /// parameters, and prints the seed's layout. A parameter the cmdlet does not have is a usage error (exit 2).
    /// </summary>
    public int RunSeed(Seed.SeedArguments seed)
    {
        return Run(ps =>
        {
            ps.AddCommand(seed.Command.Cmdlet);
            foreach (var value in seed.Positionals) ps.AddArgument(value);
            foreach (var (name, value) in seed.Parameters) ps.AddParameter(name, value);
            if (seed.Command.Then is { } then) ps.AddCommand(then);
        }, output => RenderSeed(output, seed));
    }

    private int RenderSeed(IReadOnlyList<PSObject> output, Seed.SeedArguments seed)
    {
        var items = output.Select(o => o.BaseObject).ToList();
        switch (seed.Format)
        {
            case Seed.SeedFormat.Json:
                Seed.SeedRunner.Write(_console, [Seed.SeedView.ToJson(items)]);
                return 0;
            case Seed.SeedFormat.Simple:
                Seed.SeedRunner.Write(_console, Seed.SeedView.Simple(items));
                return 0;
        }
        switch (seed.Command.Layout)
        {
            case Seed.SeedLayout.ContainerList:
                Seed.SeedRunner.Write(_console, Seed.SeedView.ContainerList(items.OfType<Ds01.Core.Containers.Ds01Container>().ToList()));
                return 0;
            case Seed.SeedLayout.ContainerStats when items.Count > 0:
                Seed.SeedRunner.Write(_console, Seed.SeedView.ContainerStats(items.OfType<Ds01.Core.Containers.Ds01ContainerStats>().ToList()));
                return 0;
            case Seed.SeedLayout.ImageList when items.Count > 0:
                Seed.SeedRunner.Write(_console, Seed.SeedView.ImageList(items.OfType<Ds01.Core.Images.Ds01Image>().ToList(), DateTimeOffset.UtcNow));
                return 0;
        }
        return Render(output, json: false);
    }

    /// <summary>Set when the last run failed because its parameters could not be bound (a usage error).</summary>
    private bool _usageError;

    private int Run(Action<PowerShell> build, Func<IReadOnlyList<PSObject>, int> render)
    {
        _usageError = false;
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
            _console.Out.WriteLine(LanguagePrimitives.ConvertTo<string>(record.MessageData));
        };

        // Collect output as it arrives, so what came before a terminating error is still shown.
        var output = new List<PSObject>();
        var collector = new PSDataCollection<PSObject>();
        collector.DataAdded += (_, e) => output.Add(collector[e.Index]);
        try
        {
            ps.Invoke(null, collector);
        }
        catch (RuntimeException ex)
        {
            errors++;
            _usageError |= ex is ParameterBindingException;
            ErrorWriter.Write(_console.Error, ex.ErrorRecord);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            errors++;
            _console.Error.WriteLine($"ds01: {ex.Message}");
        }

        try
        {
            errors += render(output);
        }
        finally
        {
            _console.Out.Flush();
            _console.Error.Flush();
        }

        if (_host.ExitCode is { } exit) return exit;
        if (_usageError) return Program.UsageError;
        return errors > 0 || ps.HadErrors ? 1 : 0;
    }

    /// <summary>
    /// Prints the output with the engine's own formatter, exactly as pwsh would: the module's views from
    /// Ds01.format.ps1xml (and the engine's help views for Get-Help) through Out-String, JSON through
    /// ConvertTo-Json. Returns the number of errors the formatter itself raised.
    /// </summary>
    private int Render(IReadOnlyList<PSObject> output, bool json)
    {
        if (output.Count == 0)
        {
            // ConvertTo-Json needs an input object; no output is an empty array.
            if (json) _console.Out.WriteLine("[]");
            return 0;
        }
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        if (json)
            // -EnumsAsStrings: ds01's JSON is for scripts, which want "Stopped", not 3, whatever the type declares.
            ps.AddCommand("ConvertTo-Json").AddParameter("Depth", JsonDepth).AddParameter("AsArray").AddParameter("EnumsAsStrings");
        else
            ps.AddCommand("Out-String").AddParameter("Stream").AddParameter("Width", OutputWidth(_console));
        try
        {
            foreach (var line in ps.Invoke<string>(output)) _console.Out.WriteLine(line);
        }
        catch (RuntimeException ex)
        {
            ErrorWriter.Write(_console.Error, ex.ErrorRecord);
            return 1;
        }
        foreach (var record in ps.Streams.Error) ErrorWriter.Write(_console.Error, record);
        return ps.Streams.Error.Count;
    }

    /// <summary>Nesting kept by --json; deeper objects become their string form, as ConvertTo-Json does.</summary>
    public const int JsonDepth = 3;

    /// <summary>Columns Out-String may use when stdout is a pipe, so no row a script reads is cut short.</summary>
    public const int PipeWidth = 4096;

    /// <summary>The terminal's width, as pwsh uses; COLUMNS when set; a pipe gets <see cref="PipeWidth"/>.</summary>
    public static int OutputWidth(CliConsole console)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0) return columns;
        if (!console.OutputIsTerminal) return PipeWidth;
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 120; }
        catch (IOException) { return 120; }
    }

    public void Dispose() => _runspace.Dispose();
}

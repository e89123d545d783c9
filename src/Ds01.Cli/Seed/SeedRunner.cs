using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.PowerShell;

namespace Ds01.Cli.Seed;

/// <summary>
/// Runs a seed command: help tiers through the engine's Get-Help (the same MAML and about topics as pwsh), a
/// plain container-list straight through Core (no engine start, so it answers as fast as docker ps), everything
/// else as its cmdlet in the embedded engine. Errors come from the same Core exceptions either way.
/// </summary>
public static class SeedRunner
{
    /// <summary>The seed commands Core answers alone (a plain container-list); null when the engine is needed.</summary>
    public static int? TryWithoutEngine(CliConsole console, SeedArguments a, bool verbose)
    {
        if (a.Help == SeedHelp.None && a.Command.Layout == SeedLayout.ContainerList && a.Positionals.Count == 0
            && a.OnlyParameters("AllUsers", "State") && States(a) is { } states)
            return ListContainers(console, a, states.Length == 0 ? null : states, verbose);
        return null;
    }

    /// <summary>Help tiers through the engine's Get-Help; everything else as its cmdlet.</summary>
    public static int RunInEngine(CommandRunner runner, SeedArguments a) => a.Help switch
    {
        SeedHelp.Help => runner.RunHelp(a.Command.Cmdlet, full: false),
        SeedHelp.Info => runner.RunHelp(a.Command.Cmdlet, full: true),
        SeedHelp.Concepts => runner.RunHelp(a.Command.Concept, full: false),
        _ => runner.RunSeed(a),
    };

    /// <summary>container-list without the engine: one Docker list call, rendered in the seed's layout.</summary>
    private static int ListContainers(CliConsole console, SeedArguments a, ContainerState[]? states, bool verbose)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        Ds01Session? session = null;
        try
        {
            session = Ds01Session.FromEnvironment();
            // A unix socket is read with plain GETs (no Docker.DotNet start-up); anything else through Docker.DotNet.
            using var quick = SocketListEngine.TryCreate();
            using var full = quick is null ? new DockerEngine() : null;
            IContainerEngine engine = (IContainerEngine?)quick ?? full!;
            var all = new ContainerService(session, engine).ListAllAsync(cancel.Token).GetAwaiter().GetResult();
            var owner = a.Parameters.ContainsKey("AllUsers") ? null : session.Access.Target(null);
            var found = ContainerService.Select(all, owner, states);
            ShowFeedback(console, session, verbose);
            Write(console, a.Format switch
            {
                SeedFormat.Json => [SeedView.ToJson(found)],
                SeedFormat.Simple => SeedView.Simple(found),
                _ => SeedView.ContainerList(found),
            });
            return 0;
        }
        catch (Ds01Exception e)
        {
            if (session is not null) ShowFeedback(console, session, verbose);
            WriteError(console, e);
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            console.Out.Flush();
        }
    }

    /// <summary>
    /// The same record the cmdlet would write (Ds01Cmdlet.ToErrorRecord), printed as ds01 prints every error. A
    /// method of its own so the PowerShell assembly loads only when there is an error to show.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void WriteError(CliConsole console, Ds01Exception e) =>
        ErrorWriter.Write(console.Error, Ds01Cmdlet.ToErrorRecord(e));

    /// <summary>--state=Running,Stopped as the cmdlet's -State reads it; null when it does not parse (the engine then reports it).</summary>
    private static ContainerState[]? States(SeedArguments a)
    {
        if (!a.Parameters.TryGetValue("State", out var value)) return [];
        var words = (value is string[] many ? many : [(string)value]).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        var states = new List<ContainerState>();
        foreach (var w in words)
        {
            if (!Enum.TryParse<ContainerState>(w, ignoreCase: true, out var s) || !Enum.IsDefined(s)) return null;
            states.Add(s);
        }
        return states.ToArray();
    }

    private static void ShowFeedback(CliConsole console, Ds01Session session, bool verbose)
    {
        foreach (var item in session.Feedback.Drain())
        {
            if (item.Kind == FeedbackKind.Warning) console.Error.WriteLine($"warning: {item.Message}");
            else if (verbose) console.Error.WriteLine($"verbose: {item.Message}");
        }
    }

    public static void Write(CliConsole console, IEnumerable<string> lines)
    {
        foreach (var line in lines) console.Out.WriteLine(line);
    }
}

using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using Spectre.Console;

namespace Ds01.Cli;

/// <summary>
/// The smallest host the engine needs. It exists so that anything which would prompt
/// (ShouldProcess at High impact, a missing mandatory parameter) fails fast when stdin is
/// not a terminal instead of hanging a script, and asks a real question when it is.
/// </summary>
/// <param name="terminal">
/// stdin and stderr are the process's own terminal: pickers and questions use Spectre.Console's prompts (arrow keys,
/// Enter) and long work shows a progress line. Tests pass writers and leave it off.
/// </param>
public sealed class CliHost(TextWriter output, TextWriter error, TextReader input, bool interactive, bool terminal = false) : PSHost
{
    private readonly CliHostUserInterface _ui = new(output, error, input, interactive, terminal);

    /// <summary>The code passed to <c>exit N</c> in the script, if it called exit.</summary>
    public int? ExitCode { get; private set; }

    public override string Name => "ds01";
    public override Version Version { get; } = typeof(CliHost).Assembly.GetName().Version ?? new Version(0, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;

    /// <summary>Tells Ds01's cmdlets (HostPrompts.CanPrompt) whether to ask or to fail at once.</summary>
    public override PSObject PrivateData { get; } = WithCanPrompt(interactive);

    private static PSObject WithCanPrompt(bool canPrompt)
    {
        var data = new PSObject();
        data.Properties.Add(new PSNoteProperty("CanPrompt", canPrompt));
        return data;
    }
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;

    public override void EnterNestedPrompt() =>
        throw new NotSupportedException("ds01 runs one command and has no nested prompt");

    public override void ExitNestedPrompt() =>
        throw new NotSupportedException("ds01 runs one command and has no nested prompt");

    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}

/// <summary>Host output and prompts. Warnings, verbose and debug lines go to stderr so stdout stays data.</summary>
public sealed class CliHostUserInterface(TextWriter output, TextWriter error, TextReader input, bool interactive, bool terminal = false)
    : PSHostUserInterface
{
    private IAnsiConsole? _ansi;

    /// <summary>Spectre.Console on stderr, so stdout stays the command's data.</summary>
    private IAnsiConsole Ansi => _ansi ??= AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
        Interactive = InteractionSupport.Yes,
    });

    public const string CannotPrompt =
        "cannot prompt in ds01 -c because stdin is not a terminal; use -Force or -Confirm:$false, and pass every mandatory parameter";

    // No RawUI: the CLI neither positions the cursor nor sizes a buffer, and the engine copes with null.
    public override PSHostRawUserInterface? RawUI => null;

    public override string ReadLine()
    {
        EnsureInteractive();
        return input.ReadLine() ?? throw new PromptingException("no answer: stdin was closed");
    }

    public override SecureString ReadLineAsSecureString()
    {
        EnsureInteractive();
        var secret = new SecureString();
        // ReadKey with intercept so the secret is not echoed.
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace) { if (secret.Length > 0) secret.RemoveAt(secret.Length - 1); }
            else if (key.KeyChar != '\0') secret.AppendChar(key.KeyChar);
        }
        error.WriteLine();
        secret.MakeReadOnly();
        return secret;
    }

    public override void Write(string value) => output.Write(value);
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => output.Write(value);
    public override void WriteLine(string value) => output.WriteLine(value);
    public override void WriteErrorLine(string value) => error.WriteLine(value);
    public override void WriteDebugLine(string message) => error.WriteLine($"debug: {message}");
    public override void WriteVerboseLine(string message) => error.WriteLine($"verbose: {message}");
    public override void WriteWarningLine(string message) => error.WriteLine($"warning: {message}");

    private bool _progressShown;

    /// <summary>
    /// Long work (an image build, a legacy commit, the GPU queue) as one line redrawn in place on stderr, only when
    /// stderr is a terminal: in a pipe or a log it would be noise, so nothing is drawn there.
    /// </summary>
    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        if (!terminal) return;
        if (record.RecordType == ProgressRecordType.Completed)
        {
            if (_progressShown) Console.Error.Write("\r\u001b[2K");
            _progressShown = false;
            return;
        }
        var percent = record.PercentComplete is >= 0 and <= 100 ? $" {record.PercentComplete,3}%" : "";
        var line = $"{record.Activity}:{percent} {record.StatusDescription}";
        var width = 0;
        try { width = Console.WindowWidth; } catch (IOException) { }
        if (width > 10 && line.Length >= width) line = line[..(width - 4)] + "...";
        Console.Error.Write("\r\u001b[2K" + line);
        _progressShown = true;
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        EnsureInteractive();
        if (terminal && descriptions.All(f => f.ParameterTypeFullName != typeof(SecureString).FullName))
        {
            WriteHeading(caption, message);
            var typed = new Dictionary<string, PSObject>();
            foreach (var field in descriptions)
            {
                var label = string.IsNullOrEmpty(field.Label) ? field.Name : field.Label;
                typed[field.Name] = PSObject.AsPSObject(Ansi.Prompt(new TextPrompt<string>(Markup.Escape(label) + ":").AllowEmpty()));
            }
            return typed;
        }
        WriteHeading(caption, message);
        var answers = new Dictionary<string, PSObject>();
        foreach (var field in descriptions)
        {
            error.Write($"{field.Name}: ");
            object answer = field.ParameterTypeFullName == typeof(SecureString).FullName
                ? ReadLineAsSecureString()
                : ReadLine();
            answers[field.Name] = PSObject.AsPSObject(answer);
        }
        return answers;
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        EnsureInteractive();
        // An empty answer means "No" when there is one: a destructive action needs an explicit yes.
        var noIndex = choices.ToList().FindIndex(c => Label(c).Equals("No", StringComparison.OrdinalIgnoreCase));
        // A list to choose from (a container picker, no yes/no in it): Spectre's selection, arrows and Enter.
        if (terminal && noIndex < 0 && choices.Count > 0)
        {
            var labels = choices.Select(c => Label(c)).ToList();
            var prompt = new SelectionPrompt<int>()
                .Title(Markup.Escape(string.Join("\n", new[] { caption, message }.Where(t => !string.IsNullOrEmpty(t)))))
                .PageSize(Math.Clamp(choices.Count, 3, 15))
                .UseConverter(i => Markup.Escape(labels[i]) + (string.IsNullOrEmpty(choices[i].HelpMessage) ? "" : $" [grey]({Markup.Escape(choices[i].HelpMessage)})[/]"))
                .AddChoices(Enumerable.Range(0, choices.Count));
            var picked = Ansi.Prompt(prompt);
            Ansi.MarkupLine($"{Markup.Escape(caption)}: [bold]{Markup.Escape(labels[picked])}[/]");
            return picked;
        }
        WriteHeading(caption, message);
        var emptyAnswer = noIndex >= 0 ? noIndex : defaultChoice;
        var menu = string.Join("  ", choices.Select(c => $"[{HotKey(c)}] {Label(c)}"));
        while (true)
        {
            error.Write($"{menu} (default {HotKey(choices[Math.Max(emptyAnswer, 0)])}): ");
            error.Flush();
            var answer = ReadLine().Trim();
            if (answer.Length == 0 && emptyAnswer >= 0) return emptyAnswer;
            for (var i = 0; i < choices.Count; i++)
                if (answer.Equals(HotKey(choices[i]), StringComparison.OrdinalIgnoreCase)
                    || answer.Equals(Label(choices[i]), StringComparison.OrdinalIgnoreCase))
                    return i;
        }
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        PromptForCredential(caption, message, userName, targetName, PSCredentialTypes.Default, PSCredentialUIOptions.Default);

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
    {
        EnsureInteractive();
        WriteHeading(caption, message);
        if (string.IsNullOrEmpty(userName))
        {
            error.Write("User: ");
            userName = ReadLine();
        }
        error.Write("Password: ");
        return new PSCredential(userName, ReadLineAsSecureString());
    }

    private void EnsureInteractive()
    {
        if (!interactive) throw new PromptingException(CannotPrompt);
    }

    private void WriteHeading(string caption, string message)
    {
        if (!string.IsNullOrEmpty(caption)) error.WriteLine(caption);
        if (!string.IsNullOrEmpty(message)) error.WriteLine(message);
    }

    private static string Label(ChoiceDescription choice) => choice.Label.Replace("&", "");

    private static string HotKey(ChoiceDescription choice)
    {
        var amp = choice.Label.IndexOf('&');
        return amp >= 0 && amp + 1 < choice.Label.Length
            ? choice.Label[amp + 1].ToString().ToUpperInvariant()
            : Label(choice);
    }
}

using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace Ds01.Cli;

/// <summary>
/// The smallest host the engine needs. It exists so that anything which would prompt
/// (ShouldProcess at High impact, a missing mandatory parameter) fails fast when stdin is
/// not a terminal instead of hanging a script, and asks a real question when it is.
/// </summary>
public sealed class CliHost(TextWriter output, TextWriter error, TextReader input, bool interactive) : PSHost
{
    private readonly CliHostUserInterface _ui = new(output, error, input, interactive);

    /// <summary>The code passed to <c>exit N</c> in the script, if it called exit.</summary>
    public int? ExitCode { get; private set; }

    public override string Name => "ds01";
    public override Version Version { get; } = typeof(CliHost).Assembly.GetName().Version ?? new Version(0, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
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
public sealed class CliHostUserInterface(TextWriter output, TextWriter error, TextReader input, bool interactive)
    : PSHostUserInterface
{
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

    // Progress bars would interleave with output written to a pipe; ds01 does not draw them.
    public override void WriteProgress(long sourceId, ProgressRecord record) { }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        EnsureInteractive();
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
        WriteHeading(caption, message);
        // An empty answer means "No" when there is one: a destructive action needs an explicit yes.
        var noIndex = choices.ToList().FindIndex(c => Label(c).Equals("No", StringComparison.OrdinalIgnoreCase));
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

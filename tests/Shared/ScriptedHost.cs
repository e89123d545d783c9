using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;

namespace Ds01.Tests;

/// <summary>
/// A PSHost that answers prompts from a script, as a person at a terminal would, and records what it was shown and
/// asked: guided mode and the name pickers driven through the real engine. An answer the script lacks fails the test
/// (a prompt nobody expected), instead of hanging.
/// </summary>
public sealed class ScriptedHost(params string[] answers) : PSHost
{
    private readonly ScriptedUI _ui = new(new Queue<string>(answers));

    public ScriptedUI Script => _ui;
    public override string Name => "ScriptedHost";
    public override Version Version { get; } = new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void SetShouldExit(int exitCode) { }
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }

    /// <summary>Runs a script with the staged module in a runspace on this host.</summary>
    public PsResult Run(string script, IDictionary<string, string?>? env = null)
    {
        var saved = new Dictionary<string, string?>();
        if (env is not null)
            foreach (var (k, v) in env) { saved[k] = Environment.GetEnvironmentVariable(k); Environment.SetEnvironmentVariable(k, v); }
        try
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { RepoPaths.ModuleManifest });
            using var rs = RunspaceFactory.CreateRunspace(this, iss);
            rs.Open();
            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = rs;
            ps.AddScript(script);
            Collection<PSObject> output;
            var errors = new List<ErrorRecord>();
            try { output = ps.Invoke(); }
            catch (RuntimeException e)
            {
                output = new Collection<PSObject>();
                errors.Add(e.ErrorRecord);
            }
            errors.InsertRange(0, ps.Streams.Error);
            return new PsResult(output, errors, ps.Streams.Warning.Select(w => w.Message).ToList());
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }
}

public sealed class ScriptedUI(Queue<string> answers) : PSHostUserInterface
{
    /// <summary>Everything written to the host, in order (guidance, WhatIf lines, prompts' captions and messages).</summary>
    public List<string> Shown { get; } = [];

    /// <summary>Each PromptForChoice: its caption, message and the labels offered (without '&amp;').</summary>
    public List<(string Caption, string Message, string[] Labels)> Choices { get; } = [];

    /// <summary>Each field asked for through Prompt.</summary>
    public List<string> Fields { get; } = [];

    public int AnswersLeft => answers.Count;

    public string Transcript => string.Join("\n", Shown);

    private string Next(string what) =>
        answers.Count > 0 ? answers.Dequeue() : throw new InvalidOperationException($"the script has no answer for: {what}");

    public override PSHostRawUserInterface? RawUI => null;
    public override string ReadLine() => Next("ReadLine");
    public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();
    public override void Write(string value) => Shown.Add(value);
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Shown.Add(value);
    public override void WriteLine(string value) => Shown.Add(value);
    public override void WriteErrorLine(string value) => Shown.Add(value);
    public override void WriteDebugLine(string message) { }
    public override void WriteVerboseLine(string message) { }
    public override void WriteWarningLine(string message) => Shown.Add("WARNING: " + message);
    /// <summary>Each progress record written (Write-Progress), as activity and status.</summary>
    public List<(string Activity, string Status, ProgressRecordType Type)> Progress { get; } = [];

    public override void WriteProgress(long sourceId, ProgressRecord record) =>
        Progress.Add((record.Activity, record.StatusDescription, record.RecordType));

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        var result = new Dictionary<string, PSObject>();
        foreach (var f in descriptions)
        {
            Fields.Add(f.Name);
            Shown.Add(f.Label);
            result[f.Name] = PSObject.AsPSObject(Next($"field {f.Name}"));
        }
        return result;
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        var labels = choices.Select(c => c.Label.Replace("&", "")).ToArray();
        Choices.Add((caption, message, labels));
        Shown.Add(caption);
        Shown.Add(message);
        var answer = Next($"choice '{caption}' among {string.Join(", ", labels)}");
        var i = Array.FindIndex(labels, l => l.Equals(answer, StringComparison.OrdinalIgnoreCase));
        return i >= 0 ? i : throw new InvalidOperationException($"'{answer}' is not among {string.Join(", ", labels)}");
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
}

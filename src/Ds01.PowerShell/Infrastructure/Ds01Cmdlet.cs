using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Reflection;
using Ds01.Core;
using Ds01.Core.Guidance;

namespace Ds01.PowerShell;

/// <summary>
/// Base of every Ds01 cmdlet: one session per invocation, cancellation on Ctrl+C, the session's feedback shown on
/// the pipeline thread (warnings, notes as verbose), the mapping from Core's Ds01Exception to an ErrorRecord with a
/// specific id, category, target and recommended action, and disposal (PowerShell disposes an IDisposable cmdlet
/// when its pipeline ends, whether it completed, failed or was stopped).
/// </summary>
public abstract class Ds01Cmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private Ds01Session? _session;

    protected CancellationToken Cancellation => _cancel.Token;

    protected Ds01Session Session => _session ??= CreateSession();

    private Ds01Session CreateSession()
    {
        try { return Ds01Session.FromEnvironment(); }
        catch (Ds01Exception e) { ThrowTerminatingError(ToErrorRecord(e)); throw; }
    }

    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>Runs one record's work; a Ds01Exception becomes a non-terminating error for that record.</summary>
    protected void Try(Action work)
    {
        try
        {
            work();
            ShowFeedback();
        }
        catch (Ds01Exception e) { ShowFeedback(); WriteError(ToErrorRecord(e)); }
        catch (AggregateException a) when (a.InnerException is Ds01Exception e) { ShowFeedback(); WriteError(ToErrorRecord(e)); }
        // Ctrl+C: end the pipeline the way PowerShell expects, not with a stack trace.
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested) { throw new PipelineStoppedException(); }
        // The host file system said no (a workspace, a Dockerfile, the state dir): say what and where, not a stack trace.
        catch (UnauthorizedAccessException e)
        {
            ShowFeedback();
            WriteError(new ErrorRecord(e, "FileAccessDenied", ErrorCategory.PermissionDenied, null)
            { ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = "Check the path's owner and permissions, or ask an admin." } });
        }
        catch (IOException e)
        {
            ShowFeedback();
            WriteError(new ErrorRecord(e, "FileSystemError", ErrorCategory.WriteError, null)
            { ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = "Check the disk and the path named in the message." } });
        }
    }

    protected static T Await<T>(Task<T> task) => task.GetAwaiter().GetResult();

    /// <summary>
    /// Awaits work that may take long (a legacy commit, the GPU queue), showing Core's current activity
    /// (Ds01Session.Activity) with Write-Progress from the pipeline thread while it lasts.
    /// </summary>
    protected T AwaitWithProgress<T>(Task<T> task)
    {
        ProgressRecord? shown = null;
        while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromMilliseconds(250)))
        {
            if (Session.Activity.Current is not { } now) continue;
            var elapsed = Session.Clock.GetUtcNow() - now.Since;
            shown ??= new ProgressRecord(2, now.Title, now.Status);
            shown.Activity = now.Title;
            shown.StatusDescription = $"{now.Status} ({(int)elapsed.TotalSeconds} s)";
            WriteProgress(shown);
        }
        if (shown is not null)
        {
            shown.RecordType = ProgressRecordType.Completed;
            WriteProgress(shown);
        }
        return task.GetAwaiter().GetResult();
    }
    protected static void Await(Task task) => task.GetAwaiter().GetResult();

    /// <summary>Shows what the services said so far (warnings, notes as verbose), on the pipeline thread, in order.</summary>
    protected void ShowFeedback()
    {
        if (_session is null || Stopping) return;
        foreach (var item in _session.Feedback.Drain())
        {
            if (item.Kind == FeedbackKind.Warning) WriteWarning(item.Message);
            else WriteVerbose(item.Message);
        }
    }

    protected override void EndProcessing()
    {
        ShowFeedback();
        base.EndProcessing();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) _cancel.Dispose();
    }

    // ---------- guided mode and missing values ----------

    /// <summary>True when -Guided was given (the switch lives on the cmdlets that have a guided flow).</summary>
    protected bool GuidedAsked => MyInvocation.BoundParameters.TryGetValue("Guided", out var g) && g is SwitchParameter { IsPresent: true };

    /// <summary>
    /// Guided mode: explains each step of this command's flow (Ds01.Core's GuidedFlows, the one source of the texts)
    /// before anything happens, asks through the host for each value the user left out, says what will happen and
    /// asks yes or no. No person to ask is a terminating GuidedNeedsTerminal error; a no is GuidedDeclined. Either
    /// way nothing has changed. <paramref name="pickName"/> chooses -Name from a list instead of typing it.
    /// </summary>
    protected void RunGuided(Func<string>? pickName = null)
    {
        var command = MyInvocation.MyCommand.Name;
        var flow = GuidedFlows.Find(command) ?? throw new InvalidOperationException($"{command} has no guided flow");
        if (!HostPrompts.CanPrompt(Host)) ThrowTerminatingError(NeedsPerson(command, "GuidedNeedsTerminal",
            $"{command} -Guided asks you questions, and there is no terminal to ask at.",
            $"Run it in a terminal, or without -Guided and with every value given (Get-Help {command} -Examples)."));
        Say("");
        Say(flow.Caption);
        for (var i = 0; i < flow.Steps.Count; i++)
        {
            var step = flow.Steps[i];
            Say($"[{i + 1}/{flow.Steps.Count}] {step.Title}");
            Say("    " + step.Explanation);
            if (step.Parameter is not { } parameter || IsGiven(parameter)) continue;
            if (parameter == "Name" && pickName is not null) SetParameter(parameter, pickName());
            else AskFor(parameter, step.Question ?? parameter, step.EmptyMeans, step.Explanation);
        }
        Say("What will happen: " + flow.WhatHappens);
        var choices = new Collection<ChoiceDescription> { new("&Yes", "Go ahead."), new("&No", GuidedFlow.Declined) };
        var answer = Ask(() => Host.UI.PromptForChoice(flow.Caption, GuidedFlow.Confirm, choices, 0));
        if (answer != 0) ThrowTerminatingError(new ErrorRecord(new OperationCanceledException(GuidedFlow.Declined), "GuidedDeclined",
            ErrorCategory.OperationStopped, command) { ErrorDetails = new ErrorDetails(GuidedFlow.Declined) { RecommendedAction = $"Run {command} again when you are ready." } });
    }

    /// <summary>
    /// A value the user left out: asked for through the host when a person is there, otherwise a terminating
    /// <paramref name="parameter"/>Required error (never a prompt that waits on a script's stdin).
    /// </summary>
    protected void RequireValue(string parameter, string question)
    {
        if (IsGiven(parameter)) return;
        var command = MyInvocation.MyCommand.Name;
        if (!HostPrompts.CanPrompt(Host)) ThrowTerminatingError(NeedsPerson(command, parameter + "Required",
            $"{command} needs -{parameter}, and there is no terminal to ask for it at.", $"Pass -{parameter} (Get-Help {command} -Parameter {parameter})."));
        AskFor(parameter, question, null, null);
    }

    /// <summary>The error for a question nobody can answer (no terminal, -NonInteractive, redirected stdin).</summary>
    protected static ErrorRecord NeedsPerson(string command, string errorId, string message, string action) =>
        new(new PSInvalidOperationException(message), errorId, ErrorCategory.InvalidArgument, command)
        { ErrorDetails = new ErrorDetails(message) { RecommendedAction = action } };

    /// <summary>Writes a line of guidance to the person at the host (not to the output stream).</summary>
    protected void Say(string line) => Host.UI.WriteLine(line);

    private bool IsGiven(string parameter) =>
        MyInvocation.BoundParameters.ContainsKey(parameter) || GetType().GetProperty(parameter)?.GetValue(this) is string { Length: > 0 };

    /// <summary>A host call that may refuse (no terminal): the refusal becomes the NoTerminal error, not a crash.</summary>
    private T Ask<T>(Func<T> prompt)
    {
        string? refused = null;
        try { return prompt(); }
        catch (Exception e) when (HostPrompts.IsRefusal(e)) { refused = e.Message; }
        var command = MyInvocation.MyCommand.Name;
        ThrowTerminatingError(NeedsPerson(command, "NoTerminal", $"{command} cannot ask: {refused}",
            $"Pass every value as a parameter (Get-Help {command} -Examples)."));
        throw new InvalidOperationException(refused);
    }

    private void AskFor(string parameter, string question, string? emptyMeans, string? help)
    {
        var command = MyInvocation.MyCommand.Name;
        var property = GetType().GetProperty(parameter, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"{command} has no parameter {parameter}");
        var label = emptyMeans is null ? question : $"{question} (empty: {emptyMeans})";
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var field = new FieldDescription(parameter) { Label = label, HelpMessage = help ?? question };
            var answers = Ask(() => Host.UI.Prompt(command, "", new Collection<FieldDescription> { field }));
            var text = answers is not null && answers.TryGetValue(parameter, out var v) ? v?.ToString()?.Trim() : null;
            if (string.IsNullOrEmpty(text))
            {
                if (emptyMeans is not null) return;
                Say("    An answer is needed here.");
                continue;
            }
            if (Convert(text!, property) is { } value) { SetParameter(parameter, value); return; }
            Say($"    '{text}' is not a valid {parameter}.");
        }
        ThrowTerminatingError(NeedsPerson(command, "GuidedAnswerInvalid", $"No valid value for -{parameter} after three tries.",
            $"Run {command} again, or pass -{parameter} yourself."));
    }

    /// <summary>The answer as the parameter's type, within its ValidateRange; null when it is not one.</summary>
    private static object? Convert(string text, PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        object value;
        try
        {
            // A program with arguments, split on spaces (bound as values; nothing goes through a shell).
            value = type == typeof(string[]) ? text.Split(' ', StringSplitOptions.RemoveEmptyEntries) : LanguagePrimitives.ConvertTo(text, type, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (PSInvalidCastException) { return null; }
        if (property.GetCustomAttribute<ValidateRangeAttribute>() is { } range && value is IComparable c
            && (c.CompareTo(LanguagePrimitives.ConvertTo(range.MinRange, type)) < 0 || c.CompareTo(LanguagePrimitives.ConvertTo(range.MaxRange, type)) > 0))
            return null;
        return value;
    }

    private void SetParameter(string parameter, object value)
    {
        GetType().GetProperty(parameter)!.SetValue(this, value);
        // Later code (ShouldProcess texts, -WhatIf) sees it as given.
        MyInvocation.BoundParameters[parameter] = value;
    }

    public static ErrorRecord ToErrorRecord(Ds01Exception e)
    {
        var record = new ErrorRecord(e, e.ErrorId, Category(e.Kind), e.Target);
        if (e.RecommendedAction is not null)
            record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = e.RecommendedAction };
        return record;
    }

    public static ErrorCategory Category(Ds01ErrorKind kind) => kind switch
    {
        Ds01ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        Ds01ErrorKind.InvalidData => ErrorCategory.InvalidData,
        Ds01ErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        Ds01ErrorKind.AlreadyExists => ErrorCategory.ResourceExists,
        Ds01ErrorKind.QuotaExceeded => ErrorCategory.QuotaExceeded,
        Ds01ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        Ds01ErrorKind.ResourceBusy => ErrorCategory.ResourceBusy,
        Ds01ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        Ds01ErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        Ds01ErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        Ds01ErrorKind.NotInstalled => ErrorCategory.NotInstalled,
        Ds01ErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        _ => ErrorCategory.NotSpecified,
    };
}

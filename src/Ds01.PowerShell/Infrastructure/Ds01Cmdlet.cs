using System.Management.Automation;
using Ds01.Core;

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

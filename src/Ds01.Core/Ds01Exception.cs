namespace Ds01.Core;

/// <summary>What kind of failure, so the PowerShell layer can pick an ErrorCategory without Core knowing PowerShell.</summary>
public enum Ds01ErrorKind
{
    InvalidArgument,
    InvalidData,
    NotFound,
    AlreadyExists,
    QuotaExceeded,
    ResourceUnavailable,
    ResourceBusy,
    PermissionDenied,
    InvalidOperation,
    ConnectionError,
    NotInstalled,
    OperationTimeout,
}

/// <summary>
/// A failure a user can act on: a stable id (for scripts), a kind, the object it concerns and what to do next.
/// </summary>
public class Ds01Exception : Exception
{
    public Ds01Exception(Ds01ErrorKind kind, string errorId, string message, object? target = null,
        string? recommendedAction = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        ErrorId = errorId;
        Target = target;
        RecommendedAction = recommendedAction;
    }

    public Ds01ErrorKind Kind { get; }
    public string ErrorId { get; }
    public object? Target { get; }
    public string? RecommendedAction { get; }
}

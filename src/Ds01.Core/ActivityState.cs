namespace Ds01.Core;

/// <summary>What the long part of a command is doing now (the legacy commit, waiting in the GPU queue).</summary>
public sealed record Activity(string Title, string Status, DateTimeOffset Since);

/// <summary>
/// The current long activity of one command, set by Core as it goes and read by the host's thread to draw progress
/// (Write-Progress in pwsh, a progress line in ds01). Thread-safe: Core runs off the pipeline thread.
/// </summary>
public sealed class ActivityState
{
    private Activity? _current;

    public Activity? Current => Volatile.Read(ref _current);

    public void Set(string title, string status, TimeProvider clock) =>
        Volatile.Write(ref _current, new Activity(title, status, clock.GetUtcNow()));

    public void Clear() => Volatile.Write(ref _current, null);
}

namespace Ds01.Service.Policy;

/// <summary>
/// What the policy decided for an allowed request: the body to forward instead of the client's (when it was
/// inspected), a wrapper the forward runs inside (the allocation lock for creates), and what to do with the
/// response status (the event log).
/// </summary>
internal sealed class Verdict
{
    public static readonly Verdict Pass = new();

    public byte[]? Body { get; init; }
    public Func<Func<Task<int>>, Task<int>>? Around { get; init; }
    public Action<int>? After { get; init; }

    /// <summary>
    /// Once forwarded, dockerd's answer is read whatever the client does (a create: a SIGKILLed client must not
    /// end ds01d's hold of the allocation lock while dockerd is still making the container); bounded by
    /// <see cref="UpstreamAnswerTimeout"/>.
    /// </summary>
    public bool CompleteWithoutClient { get; init; }

    public static readonly TimeSpan UpstreamAnswerTimeout = TimeSpan.FromMinutes(5);
}

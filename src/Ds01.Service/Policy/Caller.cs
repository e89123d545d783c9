using Ds01.Core.Configuration;
using Ds01.Core.Identity;

namespace Ds01.Service.Policy;

/// <summary>
/// Who is on the other end of one connection: the kernel's uid/gid/pid, the account they map to, and whether the
/// service's own config (never one the caller names) makes them an admin.
/// </summary>
internal sealed class Caller
{
    public Caller(PeerCredentials peer, UserIdentity? user, ResourceLimitsConfig? config, string? configProblem)
    {
        Peer = peer;
        User = user;
        Config = config;
        ConfigProblem = configProblem;
        IsAdmin = peer.Uid == 0 || (user is not null && config?.Admins.Contains(user.Name, StringComparer.Ordinal) == true);
    }

    public PeerCredentials Peer { get; }
    public UserIdentity? User { get; }
    public ResourceLimitsConfig? Config { get; }
    public string? ConfigProblem { get; }
    public bool IsAdmin { get; }
    public int Uid => Peer.Uid;
    public string Name => User?.Name ?? $"uid {Peer.Uid}";
}

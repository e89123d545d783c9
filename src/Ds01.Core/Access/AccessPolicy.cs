using Ds01.Core.Configuration;
using Ds01.Core.Identity;

namespace Ds01.Core.Access;

/// <summary>Who may act for whom: everyone for themselves; admins (uid 0 or listed under admins) for anyone.</summary>
public sealed class AccessPolicy
{
    private readonly IIdentitySource _identities;
    private readonly Func<ResourceLimitsConfig?> _config;

    public AccessPolicy(IIdentitySource identities, UserIdentity caller, Func<ResourceLimitsConfig?> config)
    {
        _identities = identities;
        Caller = caller;
        _config = config;
    }

    public UserIdentity Caller { get; }

    public bool IsAdmin(UserIdentity user)
    {
        if (user.Uid == 0) return true;
        var admins = _config()?.Admins;
        return admins is not null && admins.Contains(user.Name, StringComparer.Ordinal);
    }

    public bool CallerIsAdmin => IsAdmin(Caller);

    /// <summary>The account a command acts for: the caller, or (admins only) the named user.</summary>
    public UserIdentity Target(string? userName)
    {
        if (string.IsNullOrEmpty(userName) || userName == Caller.Name) return Caller;
        if (!CallerIsAdmin)
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "NotAnAdmin",
                $"Only an admin may act for another user; you are '{Caller.Name}' and asked for '{userName}'.", userName,
                "Leave out -User to act for yourself, or ask an admin (listed under 'admins' in resource-limits.yaml).");
        return _identities.FindByName(userName!) ?? throw new Ds01Exception(Ds01ErrorKind.NotFound, "UserNotFound",
            $"There is no account named '{userName}' on this machine.", userName,
            "Check the name with 'getent passwd <name>'.");
    }

    /// <summary>Throws unless the caller may touch something owned by <paramref name="owner"/>.</summary>
    public void DemandOwnerOrAdmin(string? owner, int? ownerUid, string what)
    {
        if (CallerIsAdmin) return;
        if (ownerUid is { } uid ? uid == Caller.Uid : owner == Caller.Name) return;
        throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "NotOwner",
            $"{what} belongs to '{owner ?? "another user"}', not to you ('{Caller.Name}').", what,
            "You can only act on your own containers and images.");
    }
}

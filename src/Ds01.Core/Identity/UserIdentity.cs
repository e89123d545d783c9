namespace Ds01.Core.Identity;

/// <summary>An OS account: who runs a command, or whom an admin acts for.</summary>
public sealed record UserIdentity(string Name, int Uid, int Gid, string Home, IReadOnlyList<string> Groups)
{
    public string SanitizedName => UsernameSanitizer.Sanitize(Name);
    public override string ToString() => $"{Name} ({Uid})";
}

/// <summary>Looks accounts up; the OS implementation asks libc (so LDAP/SSSD users resolve too).</summary>
public interface IIdentitySource
{
    UserIdentity Current();
    UserIdentity? FindByName(string name);
    UserIdentity? FindByUid(int uid);
}

using Ds01.Core;
using Ds01.Core.Access;
using Ds01.Core.Configuration;
using Ds01.Core.Identity;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>Who may act for whom, with the machine's real accounts (games, nobody, root).</summary>
public class AccessPolicyTests
{
    private static readonly OsIdentitySource Os = new();

    private static AccessPolicy For(string caller, string yaml = "defaults: {}\n") =>
        new(Os, Os.FindByName(caller)!, () => ResourceLimitsConfig.Parse("r.yaml", yaml));

    [Fact]
    public void A_user_acts_only_for_themselves()
    {
        var games = For("games");
        Assert.Equal("games", games.Target(null).Name);
        Assert.Equal("games", games.Target("games").Name);
        var e = Assert.Throws<Ds01Exception>(() => games.Target("nobody"));
        Assert.Equal((Ds01ErrorKind.PermissionDenied, "NotAnAdmin"), (e.Kind, e.ErrorId));
    }

    [Fact]
    public void Root_and_listed_admins_act_for_anyone_who_exists()
    {
        Assert.Equal(Os.FindByName("nobody")!.Uid, For("root").Target("nobody").Uid);
        Assert.Equal("nobody", For("games", "admins: [games]\ndefaults: {}\n").Target("nobody").Name);
        var e = Assert.Throws<Ds01Exception>(() => For("root").Target("no-such-user-ds01"));
        Assert.Equal((Ds01ErrorKind.NotFound, "UserNotFound"), (e.Kind, e.ErrorId));
    }

    [Fact]
    public void Ownership_is_decided_by_uid_when_there_is_one_so_a_name_label_cannot_claim_a_container()
    {
        var games = For("games");
        var uid = Os.FindByName("games")!.Uid;
        games.DemandOwnerOrAdmin("games", uid, "Container 'mine'");
        var e = Assert.Throws<Ds01Exception>(() => games.DemandOwnerOrAdmin("games", uid + 1, "Container 'theirs'"));
        Assert.Equal((Ds01ErrorKind.PermissionDenied, "NotOwner"), (e.Kind, e.ErrorId));
        games.DemandOwnerOrAdmin("games", null, "Container 'aime'");
        Assert.Throws<Ds01Exception>(() => games.DemandOwnerOrAdmin("nobody", null, "Container 'aime'"));
        For("root").DemandOwnerOrAdmin("games", uid, "Container 'any'");
    }
}

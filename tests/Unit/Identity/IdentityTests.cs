using Ds01.Core.Identity;
using Xunit;

namespace Ds01.Tests.Unit.Identity;

public class IdentityTests
{
    [Theory]
    [InlineData("h.baker@hertie-school.lan", "h-baker-at-hertie-school-lan")]
    [InlineData("alice", "alice")]
    [InlineData("Bob Smith", "bob-smith")]
    [InlineData("jane_doe-2", "jane_doe-2")]
    public void Sanitizes_as_the_seeds_do(string name, string expected) =>
        Assert.Equal(expected, UsernameSanitizer.Sanitize(name));

    [Fact]
    public void Long_names_are_cut_to_32_and_stay_distinct()
    {
        var a = UsernameSanitizer.Sanitize("a.very.long.name.from.ldap@department.university.example");
        var b = UsernameSanitizer.Sanitize("a.very.long.name.from.ldap@department.university.example2");
        Assert.Equal(32, a.Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void The_os_source_reads_the_real_account_database()
    {
        var os = new OsIdentitySource();
        var me = os.Current();
        Assert.Equal(Environment.UserName, me.Name);
        var root = os.FindByUid(0);
        Assert.NotNull(root);
        Assert.Equal("root", root!.Name);
        Assert.Contains("root", root.Groups);
        Assert.Equal(0, os.FindByName("root")!.Uid);
        Assert.Null(os.FindByName("no-such-user-ds01"));
    }
}

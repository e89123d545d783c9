using System.Text.RegularExpressions;
using Ds01.Core.Naming;
using FsCheck;
using FsCheck.Xunit;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>
/// ds01d counts a caller's containers (max_containers, names differing only in case) through Docker's name filter
/// (ContainerNaming.DockerNameFilter): the pattern must select exactly the names ParseTag gives that uid, or a
/// container would go uncounted. .NET's engine stands in for Go's RE2 here (the patterns use only syntax both read
/// the same); ServiceTests.Max_containers_through_ds01d_counts_the_callers_containers_by_name runs them in dockerd.
/// </summary>
public class DockerNameFilterTests
{
    // Pieces that make Docker names near the pattern's edges: separators, leading zeros, other uids, case.
    private static readonly string[] Pieces = { "a", "B", "thesis", "Thesis", "0", "00", "1", "7", "1001", "11001", "10010", "._.", "_", ".", "-", "._", "_." };

    // Each pick is a piece, or the uid itself.
    private static string NameFrom(int[] picks, int uid) =>
        string.Concat((picks ?? Array.Empty<int>()).Take(8).Select(p => (uint)p % (uint)(Pieces.Length + 1)).Select(i => i == Pieces.Length ? uid.ToString() : Pieces[i]));

    private static bool Selects(string? pattern, string dockerName) =>
        pattern is not null && Regex.IsMatch(dockerName, pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    [Property(MaxTest = 500)]
    public void The_uid_pattern_selects_a_name_exactly_when_ParseTag_gives_it_that_uid(int[] picks, NonNegativeInt uid)
    {
        var name = "x" + NameFrom(picks, uid.Get);
        var mine = ContainerNaming.ParseTag(name).Uid == uid.Get;
        // dockerd matches the name with and without its leading '/'.
        Assert.Equal(mine, Selects(ContainerNaming.DockerNameFilter(uid.Get), "/" + name));
        Assert.Equal(mine, Selects(ContainerNaming.DockerNameFilter(uid.Get), name));
    }

    [Property(MaxTest = 500)]
    public void The_name_pattern_selects_the_callers_names_that_equal_it_ignoring_case(int[] picks, int[] other, NonNegativeInt uid)
    {
        var wanted = "t" + NameFrom(other, uid.Get);
        var candidate = (uid.Get % 2 == 0 ? "T" : "t") + NameFrom(picks, uid.Get);
        var parsed = ContainerNaming.ParseTag(candidate);
        var twin = parsed.Uid == uid.Get && string.Equals(parsed.Name, wanted, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(twin, Selects(ContainerNaming.DockerNameFilter(uid.Get, wanted), "/" + candidate));
    }

    [Theory]
    [InlineData("thesis._.1001", true)]
    [InlineData("Thesis._.01001", true)]
    [InlineData("THESIS._.1001", true)]
    [InlineData("thesis._.11001", false)]
    [InlineData("thesis._.10010", false)]
    [InlineData("thesis2._.1001", false)]
    [InlineData("my.thesis._.1001", false)]
    [InlineData("thesis._.1001._.1002", false)]
    public void A_twin_is_the_same_name_in_another_case_with_the_callers_uid(string dockerName, bool selected)
    {
        Assert.Equal(selected, Selects(ContainerNaming.DockerNameFilter(1001, "thesis"), "/" + dockerName));
        Assert.Equal(selected, Selects(ContainerNaming.DockerNameFilter(1001, "thesis"), dockerName));
    }

    [Fact]
    public void A_name_no_Docker_name_can_have_gives_no_pattern_and_dots_are_literal()
    {
        Assert.Null(ContainerNaming.DockerNameFilter(1001, "th esis"));
        Assert.Null(ContainerNaming.DockerNameFilter(1001, "thes\u0131s"));
        Assert.False(Selects(ContainerNaming.DockerNameFilter(1001, "a.b"), "/axb._.1001"));
        Assert.True(Selects(ContainerNaming.DockerNameFilter(1001, "a.b"), "/A.B._.1001"));
        // Root's tags: ParseTag reads "-0" and "00" as 0 too.
        Assert.True(Selects(ContainerNaming.DockerNameFilter(0), "/x._.-00"));
        Assert.False(Selects(ContainerNaming.DockerNameFilter(0), "/x._.-"));
    }
}

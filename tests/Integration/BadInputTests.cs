using System.Management.Automation;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// The bad-input corpus for container names and mount paths (issue 13), against the real dockerd: each class
/// gets its specific error record (id, category, target) and leaves nothing behind: no container, no workspace
/// directory, no create event. Config, nvidia-smi and event-log input: tests/Unit/Hardening/BadInputCorpusTests.
/// Names that differ only in case: HardeningTests.Names_that_differ_only_in_case_are_refused_and_name_matching_is_case_sensitive.
/// </summary>
[Collection("engine")]
public class BadInputTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    private static int Containers(DockerTestBed bed) =>
        bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult().Count;

    /// <summary>Runs the create and returns its one error after checking that nothing was made.</summary>
    private static ErrorRecord Refused(DockerTestBed bed, string arguments, string id, ErrorCategory category, object target)
    {
        var before = Containers(bed);
        var r = bed.Run($"New-Ds01Container {arguments} -Image {Img} -GpuCount 0");
        var e = r.SingleError();
        Assert.Empty(r.Output);
        Assert.Equal((id, category, target), (e.FullyQualifiedErrorId.Split(',')[0], e.CategoryInfo.Category, e.TargetObject));
        Assert.False(string.IsNullOrEmpty(e.ErrorDetails?.RecommendedAction), "no recommended action");
        Assert.Equal(before, Containers(bed));
        Assert.Empty(Directory.GetFileSystemEntries(bed.Workspaces));
        Assert.True(!File.Exists(bed.Config.EventLogFile) || !File.ReadAllText(bed.Config.EventLogFile).Contains("container.create"),
            "a create event was written");
        return e;
    }

    private static void NamesRefused(params string[] names)
    {
        using var bed = new DockerTestBed();
        foreach (var name in names)
            Refused(bed, $"-Name '{name.Replace("'", "''")}'", "InvalidContainerName", ErrorCategory.InvalidArgument, name);
    }

    [Fact]
    public void Names_docker_rejects_are_InvalidContainerName_and_create_nothing() =>
        NamesRefused("my thesis", "a/b", "x!y", "semi;colon", "dollar$HOME", " ");

    [Fact]
    public void Names_containing_the_tag_separator_are_refused_so_nobody_can_pose_as_another_uid() =>
        NamesRefused("evil._.0", "a._.b", "dots.in.name", "._.");

    [Fact]
    public void Unicode_names_are_refused_including_lookalikes_of_ascii() =>
        NamesRefused("thésis", "名前", "ｔｈｅｓｉｓ", "thesis\u200b", "tab\tname", "new\nline");

    [Fact]
    public void A_300_character_name_is_refused_and_63_is_the_longest_accepted()
    {
        NamesRefused(new string('a', 300), new string('a', 64));
        using var bed = new DockerTestBed();
        var longest = (bed.RunId + new string('a', 63))[..63];
        Assert.Empty(bed.Run($"New-Ds01Container {longest} -Image {Img} -GpuCount 0").Errors);
        Assert.NotNull(bed.Inspect($"{longest}._.{bed.Uid}"));
    }

    [Fact]
    public void Names_with_leading_dashes_or_underscores_are_refused_and_never_read_as_options() =>
        NamesRefused("-rf", "--privileged", "-", "_hidden");

    private static void PathRefused(Func<DockerTestBed, string> path, string parameter = "-DataPath", string? limits = null)
    {
        using var bed = new DockerTestBed();
        if (limits is not null)
            bed.Config.Write("resource-limits.yaml", File.ReadAllText(Path.Combine(bed.Config.ConfigDir, "resource-limits.yaml"))
                .Replace($"allowed_mount_roots: [\"{bed.Config.Root}\"]", limits));
        var p = path(bed);
        var e = Refused(bed, $"{bed.Name("mount")} {parameter} '{p}'", "MountOutsideAllowedRoots", ErrorCategory.PermissionDenied, p);
        Assert.Contains("outside the directories you may mount", e.Exception.Message);
    }

    [Fact]
    public void A_data_path_climbing_out_with_dotdot_is_MountOutsideAllowedRoots() =>
        PathRefused(bed => Path.Combine(bed.Config.Root, "ws", "..", "..", "..", "etc"));

    [Fact]
    public void A_workspace_path_climbing_out_with_dotdot_is_MountOutsideAllowedRoots() =>
        PathRefused(bed => bed.Config.Root + "/../../root", "-Workspace");

    [Fact]
    public void A_symlink_inside_the_allowed_root_pointing_out_of_it_is_MountOutsideAllowedRoots() =>
        PathRefused(bed =>
        {
            var link = Path.Combine(bed.Config.Root, "escape");
            File.CreateSymbolicLink(link, "/etc");
            return link;
        });

    [Fact]
    public void Proc_self_root_is_resolved_to_the_host_root_and_refused() =>
        PathRefused(_ => "/proc/self/root/etc");

    [Fact]
    public void Another_users_home_is_outside_the_callers_home_root_and_refused()
    {
        // The shipped default: each user may mount their own home (root's is /root), not games's (/usr/games).
        var games = new Core.Identity.OsIdentitySource().FindByName("games")!;
        Assert.NotEqual("/root", games.Home);
        PathRefused(_ => games.Home, limits: "allowed_mount_roots: [\"{home}\"]");
    }
}

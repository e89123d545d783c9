using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// ds01d mounts what it checked: a bind source is opened without following links and ds01d's own nosuid,nodev,
/// idmapped mount of that directory is what Docker mounts, so a user who swaps their path for a link to /etc
/// after the check still gets their own directory, and a root process inside never leaves a setuid-root (or
/// another user's) file on the host. Real accounts, the real ds01d and dockerd.
/// </summary>
[Collection("engine")]
public class ServiceBindTests : IClassFixture<ServiceTestBed>
{
    private readonly ServiceTestBed _bed;

    public ServiceBindTests(ServiceTestBed bed) => _bed = bed;

    private ServiceTestBed.Account Alice => _bed.Alice;
    private ServiceTestBed.Account Bob => _bed.Bob;

    private static string[] Run(string verb, string tag, params string[] extra) =>
        new[] { verb, "--name", tag }.Concat(verb == "run" ? new[] { "-d" } : Array.Empty<string>()).Concat(ServiceTestBed.Limits).Concat(extra)
            .Concat(new[] { ServiceTestBed.Busybox, "sleep", "600" }).ToArray();

    private ServiceTestBed.Result Sh(ServiceTestBed.Account a, string script) => _bed.As(a, "sh", new[] { "-c", script });

    [Fact]
    public void A_workspace_swapped_for_a_link_to_etc_after_the_check_still_mounts_the_checked_directory()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("swap"), Alice);
        var ws = Path.Combine(Alice.Home, "ws" + _bed.RunId);
        var proj = Path.Combine(ws, "proj");
        Assert.Equal(0, Sh(Alice, $"mkdir -p {proj} && echo checked-directory > {proj}/marker").Code);
        var create = _bed.Docker(Alice, Run("create", tag, "--user", $"{Alice.Uid}:{Alice.Gid}", "-v", $"{proj}:/workspace"));
        Assert.True(create.Code == 0, create.All);

        // Docker was handed ds01d's mount, not the user's path; the user's path is kept in a label.
        var inspect = _bed.Inspect(tag)!;
        Assert.Empty(inspect.HostConfig!.Binds ?? []);
        var bind = Assert.Single(inspect.HostConfig!.Mounts!);
        Assert.Equal(("bind", "/workspace"), (bind.Type, bind.Target));
        Assert.StartsWith(_bed.BindsDir + "/", bind.Source);
        Assert.Equal(proj, inspect.Config!.Labels!["ds01.bind.0"]);

        // The swap, after the check and before the start: the project directory becomes a link to /etc.
        Assert.Equal(0, Sh(Alice, $"mv {proj} {ws}/proj-old && ln -s /etc {proj}").Code);
        var start = _bed.Docker(Alice, "start", tag);
        Assert.True(start.Code == 0, start.All);
        var seen = _bed.Docker(Alice, "exec", tag, "sh", "-c", "cat /workspace/marker; ls /workspace");
        Assert.Contains("checked-directory", seen.Out);
        Assert.DoesNotContain("passwd", seen.Out);

        // In the container the bind is nosuid,nodev (and idmapped on this kernel and file system).
        var mountinfo = _bed.Docker(Alice, "exec", tag, "cat", "/proc/self/mountinfo").Out.Split('\n').Single(l => l.Split(' ').Length > 5 && l.Split(' ')[4] == "/workspace");
        var options = mountinfo.Split(' ')[5].Split(',');
        Assert.Contains("nosuid", options);
        Assert.Contains("nodev", options);
        Assert.Contains("idmapped", options);

        // After a reboot (ds01d's mount gone) a start mounts the path again, checked again: now it leads to /etc.
        Assert.Equal(0, _bed.Docker(Alice, "stop", "-t", "0", tag).Code);
        var target = bind.Source;
        Assert.Equal(0, ServiceTestBed.RunRoot("umount", "-l", target).Code);
        var refused = _bed.Docker(Alice, "start", tag);
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("is outside the directories you may mount", refused.Err);

        // With the directory back, the start re-creates the mount from the label and the container sees it again.
        Assert.Equal(0, Sh(Alice, $"rm {proj} && mv {ws}/proj-old {proj}").Code);
        var again = _bed.Docker(Alice, "start", tag);
        Assert.True(again.Code == 0, again.All);
        Assert.Contains("checked-directory", _bed.Docker(Alice, "exec", tag, "cat", "/workspace/marker").Out);

        // Remove unmounts and removes ds01d's directory for the container. ds01d does that once dockerd's answer has
        // been relayed, so the CLI may return a moment before it is done.
        Assert.Equal(0, _bed.Docker(Alice, "rm", "-f", tag).Code);
        for (var i = 0; i < 100 && Directory.Exists(Path.GetDirectoryName(target)); i++) Thread.Sleep(100);
        Assert.DoesNotContain(_bed.BindMounts(), m => m.StartsWith(Path.GetDirectoryName(target)! + "/", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.GetDirectoryName(target)));
    }

    [Fact]
    public void A_start_behind_ds01ds_back_after_a_reboot_fails_instead_of_mounting_a_root_owned_empty_directory()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("reboot"), Alice);
        var proj = Path.Combine(Alice.Home, "ws" + _bed.RunId, "reboot");
        Assert.Equal(0, Sh(Alice, $"mkdir -p {proj} && echo users-data > {proj}/marker").Code);
        var create = _bed.Docker(Alice, Run("create", tag, "--user", $"{Alice.Uid}:{Alice.Gid}", "-v", $"{proj}:/workspace"));
        Assert.True(create.Code == 0, create.All);
        var target = Assert.Single(_bed.Inspect(tag)!.HostConfig!.Mounts!).Source;
        var containerDir = Path.GetDirectoryName(target)!;

        // A reboot empties /run: ds01d's mount and its directory are gone. dockerd starting the container on its own
        // (a restart policy, an admin on dockerd's socket) must fail rather than make BINDDIR/N a root-owned empty
        // directory and run the container on it in place of the user's data.
        Assert.Equal(0, ServiceTestBed.RunRoot("umount", "-l", target).Code);
        Directory.Delete(containerDir, recursive: true);
        var direct = ServiceTestBed.RunRoot("docker", "-H", _bed.DockerHost, "start", tag);
        Assert.NotEqual(0, direct.Code);
        Assert.Contains("bind source path does not exist", direct.Err);
        Assert.False(Directory.Exists(target), "dockerd made the missing bind source");
        Assert.False(_bed.Inspect(tag)!.State!.Running);

        // A start through ds01d mounts the checked directory again first, and the container sees the user's files.
        var start = _bed.Docker(Alice, "start", tag);
        Assert.True(start.Code == 0, start.All);
        Assert.Contains("users-data", _bed.Docker(Alice, "exec", tag, "cat", "/workspace/marker").Out);
        Assert.Equal(0, _bed.Docker(Alice, "rm", "-f", tag).Code);
    }

    [Fact]
    public void Start_Ds01Container_through_ds01d_still_refuses_a_workspace_swapped_for_a_link_out_of_the_allowed_roots()
    {
        // The client's own re-check before a start (ContainerService.CheckMountsStillAllowed) reads ds01d's binds,
        // which reach Docker as Mounts of type bind.
        var name = _bed.Name("relink");
        var tag = ServiceTestBed.Tag(name, Alice);
        var ws = Path.Combine(Alice.Home, "ws" + _bed.RunId, "relink");
        Assert.Equal(0, Sh(Alice, $"mkdir -p {ws}").Code);
        var create = _bed.Ds01(Alice, $"New-Ds01Container {name} -Image {ServiceTestBed.Busybox} -GpuCount 0 -Workspace {ws} | Out-Null");
        Assert.True(create.Code == 0, create.All);
        Assert.Single(_bed.Inspect(tag)!.HostConfig!.Mounts!, m => m.Type == "bind" && m.Target == "/workspace");
        Assert.Equal(0, Sh(Alice, $"mv {ws} {ws}-old && ln -s /etc {ws}").Code);
        var start = _bed.Ds01(Alice, $"Start-Ds01Container {name}");
        Assert.NotEqual(0, start.Code);
        Assert.Contains("id: MountOutsideAllowedRoots", start.Err);
        Assert.False(_bed.Inspect(tag)!.State!.Running);
        Assert.Equal(0, _bed.Docker(Alice, "rm", "-f", tag).Code);
    }

    [Fact]
    public void A_bind_source_that_is_a_link_or_a_root_owned_directory_is_refused_and_nothing_is_mounted()
    {
        var before = _bed.BindMounts().Count;
        var tag = ServiceTestBed.Tag(_bed.Name("rootdir"), Alice);
        var rootOwned = Path.Combine(Alice.Home, "rootdir" + _bed.RunId);
        Directory.CreateDirectory(rootOwned); // made by root (the test), inside Alice's home
        var r = _bed.Docker(Alice, Run("create", tag, "--user", $"{Alice.Uid}:{Alice.Gid}", "-v", $"{rootOwned}:/workspace"));
        Assert.NotEqual(0, r.Code);
        Assert.Contains("is owned by root, not by you", r.Err);
        Assert.Null(_bed.Inspect(tag));
        Assert.Equal(before, _bed.BindMounts().Count);
    }

    [Fact]
    public void A_setuid_file_a_root_process_makes_inside_is_never_root_owned_on_the_host()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("suid"), Bob);
        var dir = Path.Combine(Bob.Home, "w" + _bed.RunId);
        Assert.Equal(0, Sh(Bob, $"mkdir -p {dir}").Code);
        // Bob has allow_sudo: ds01d lets his container run as root with a bind, on an idmapped bind only.
        var run = _bed.Docker(Bob, Run("run", tag, "--user", "0", "-v", $"{dir}:/w"));
        Assert.True(run.Code == 0, run.All);
        Assert.Equal("0", _bed.Docker(Bob, "exec", tag, "id", "-u").Out.Trim());
        var make = _bed.Docker(Bob, "exec", tag, "sh", "-c",
            "cp /bin/busybox /w/rootsh && chmod 4755 /w/rootsh && touch /w/other && chmod 4755 /w/other; chown 0:0 /w/rootsh; chown 1:1 /w/other; ls -ln /w");
        Assert.Contains("rootsh", make.Out);

        foreach (var f in new[] { "rootsh", "other" })
        {
            var stat = ServiceTestBed.RunRoot("stat", "-c", "%u %g %a", Path.Combine(dir, f)).Out.Trim().Split(' ');
            Assert.Equal("65534", stat[0]); // never 0, never another user (chown to uid 1 had no mapping)
            Assert.Equal("65534", stat[1]);
        }
        // Bob's own files stay his, and the host never sees the container's root.
        Assert.Equal(0, Sh(Bob, $"touch {dir}/mine").Code);
        Assert.Equal($"{Bob.Uid}", _bed.Docker(Bob, "exec", tag, "stat", "-c", "%u", "/w/mine").Out.Trim());
        Assert.Equal(0, _bed.Docker(Bob, "rm", "-f", tag).Code);

        // Alice has no allow_sudo: root with a bind stays refused for her.
        var alice = _bed.Docker(Alice, Run("create", ServiceTestBed.Tag(_bed.Name("suida"), Alice), "--user", "0", "-v", $"{Alice.Home}:/h"));
        Assert.NotEqual(0, alice.Code);
        Assert.Contains("must run as you", alice.Err);
    }
}

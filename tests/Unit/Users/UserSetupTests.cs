using System.Diagnostics;
using Ds01.Core;
using Ds01.Core.Identity;
using Ds01.Core.Users;
using Ds01.Tests.Unit.Core;
using Xunit;

namespace Ds01.Tests.Unit.Users;

/// <summary>
/// user-setup's Core logic on throw-away home folders: the plan reads only, each step makes only what is missing,
/// a second run finds nothing to do, an existing key is kept, and an admin acting for another account (nobody,
/// 65534) writes files that account owns and never follows a link it planted.
/// </summary>
public sealed class UserSetupTests : IDisposable
{
    private readonly CoreBed _bed = new();
    private readonly string _root = Directory.CreateTempSubdirectory("ds01-home-").FullName;
    private static readonly UserIdentity Nobody = new OsIdentitySource().FindByUid(65534)!;

    public void Dispose()
    {
        _bed.Dispose();
        Directory.Delete(_root, true);
    }

    private string Home(string name, int? owner = null)
    {
        var home = Path.Combine(_root, name);
        Directory.CreateDirectory(home);
        if (owner is { } uid) Run("chown", $"{uid}:{uid}", home);
        return home;
    }

    private static void Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(0, p.ExitCode);
    }

    private static string Snapshot(string dir) =>
        string.Join("\n", Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order());

    private static void RunAll(UserSetup setup, UserSetupPlan plan)
    {
        setup.CreateDirectories(plan);
        setup.CreateSshKey(plan);
        setup.WriteVsCodeConfig(plan);
    }

    [Fact]
    public void A_first_run_makes_the_layout_key_and_snippet_and_a_second_finds_nothing_to_do()
    {
        var home = Home("me");
        var me = _bed.Me with { Home = home };
        var setup = new UserSetup(_bed.Session);

        var plan = setup.Plan(me, "gpu1.lab.example.org");

        Assert.Empty(Directory.EnumerateFileSystemEntries(home)); // planning changes nothing
        // The Dockerfiles root (~/dockerfiles by default) is in the home; the bed's workspace root is not, so it is left to the admin.
        Assert.Equal(new[] { "dockerfiles", "data", ".ssh" }.Select(d => Path.Combine(home, d)), plan.HomeDirs);
        Assert.Equal(plan.HomeDirs, plan.MissingDirs);
        Assert.True(plan.SshKeyMissing && plan.VsCodeConfigMissing);
        Assert.Equal($"ssh {me.Name}@gpu1.lab.example.org", plan.SshCommand);

        RunAll(setup, plan);

        var key = Path.Combine(home, ".ssh", "id_ed25519");
        Assert.StartsWith("-----BEGIN OPENSSH PRIVATE KEY-----", File.ReadAllText(key));
        Assert.StartsWith("ssh-ed25519 ", File.ReadAllText(key + ".pub"));
        Assert.EndsWith($" {me.Name}@gpu1.lab.example.org", File.ReadAllText(key + ".pub").TrimEnd());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(home, ".ssh")));
        var snippet = File.ReadAllText(plan.VsCodeConfigPath);
        Assert.Contains("Host ds01-gpu1.lab.example.org\n    HostName gpu1.lab.example.org\n    User " + me.Name, snippet);
        Assert.False(File.Exists(Path.Combine(home, ".ssh", "config"))); // the user's ssh config is never written

        var before = Snapshot(home);
        var keyBytes = File.ReadAllBytes(key);
        var again = setup.Plan(me, "gpu1.lab.example.org");
        Assert.True(again.NothingToDo);
        RunAll(setup, again);
        Assert.Equal(before, Snapshot(home));
        Assert.Equal(keyBytes, File.ReadAllBytes(key));
        Assert.Equal("", setup.Read(again, []).Changed);
    }

    [Fact]
    public void An_existing_key_is_never_replaced()
    {
        var home = Home("keyed");
        Directory.CreateDirectory(Path.Combine(home, ".ssh"));
        File.WriteAllText(Path.Combine(home, ".ssh", "id_ed25519"), "the user's own key\n");
        var setup = new UserSetup(_bed.Session);

        var plan = setup.Plan(_bed.Me with { Home = home }, "gpu1");
        Assert.False(plan.SshKeyMissing);
        setup.CreateSshKey(plan);

        Assert.Equal("the user's own key\n", File.ReadAllText(Path.Combine(home, ".ssh", "id_ed25519")));
        Assert.False(File.Exists(Path.Combine(home, ".ssh", "id_ed25519.pub")));
    }

    [Fact]
    public void An_admin_setting_up_another_account_leaves_every_file_to_it()
    {
        Assert.Equal(0, Posix.EffectiveUid); // handing files to nobody needs a real root
        var home = Home("nobody", 65534);
        var owner = Nobody with { Home = home };
        var setup = new UserSetup(_bed.Session);

        RunAll(setup, setup.Plan(owner, "gpu1"));

        var made = Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(Path.Combine(home, ".ssh", "id_ed25519"), made);
        Assert.Contains(Path.Combine(home, ".config", "ds01", UserSetup.VsCodeConfigName), made);
        Assert.All(made, p => Assert.Equal(65534, Posix.Stat(p, noFollow: true)!.Value.Uid));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(home, ".ssh", "id_ed25519")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(home, ".ssh")));
        Assert.True(setup.Plan(owner, "gpu1").NothingToDo);
    }

    [Fact]
    public void A_link_the_user_planted_at_ssh_is_refused_before_anything_is_made()
    {
        Assert.Equal(0, Posix.EffectiveUid);
        var home = Home("planter", 65534);
        var protectedDir = Home("root-ssh");
        File.CreateSymbolicLink(Path.Combine(home, ".ssh"), protectedDir);
        Run("chown", "-h", "65534:65534", Path.Combine(home, ".ssh"));
        var setup = new UserSetup(_bed.Session);

        var e = Assert.Throws<Ds01Exception>(() => setup.Plan(Nobody with { Home = home }, "gpu1"));

        Assert.Equal((Ds01ErrorKind.PermissionDenied, "UserPathIsSymlink"), (e.Kind, e.ErrorId));
        Assert.Empty(Directory.EnumerateFileSystemEntries(protectedDir));
        Assert.Equal(new[] { Path.Combine(home, ".ssh") }, Directory.EnumerateFileSystemEntries(home));
    }

    [Theory]
    [InlineData("gpu1;rm -rf", "InvalidHostName")]
    [InlineData("", "InvalidHostName")]
    public void A_bad_host_name_is_a_specific_error(string host, string id)
    {
        var home = Home("bad");
        var e = Assert.Throws<Ds01Exception>(() => new UserSetup(_bed.Session).Plan(_bed.Me with { Home = home }, host));
        Assert.Equal((Ds01ErrorKind.InvalidArgument, id), (e.Kind, e.ErrorId));
    }

    [Fact]
    public void A_missing_home_is_HomeNotFound()
    {
        var e = Assert.Throws<Ds01Exception>(() => new UserSetup(_bed.Session).Plan(_bed.Me with { Home = Path.Combine(_root, "gone") }, "gpu1"));
        Assert.Equal((Ds01ErrorKind.NotFound, "HomeNotFound"), (e.Kind, e.ErrorId));
        Assert.False(Directory.Exists(Path.Combine(_root, "gone")));
    }

    [Fact]
    public void The_next_steps_give_the_ssh_command_and_the_jupyter_address()
    {
        var plan = new UserSetup(_bed.Session).Plan(_bed.Me with { Home = Home("steps") }, "gpu1");
        var lines = UserSetup.NextSteps(plan, "first", "http://172.17.0.5:8888/lab");
        Assert.Contains(lines, l => l.Contains($"ssh {_bed.Me.Name}@gpu1"));
        Assert.Contains(lines, l => l.Contains("http://172.17.0.5:8888/lab") && l.Contains("ssh -L 8888:172.17.0.5:8888"));
        Assert.Contains(lines, l => l.Contains("Enter-Ds01Container first"));
    }
}

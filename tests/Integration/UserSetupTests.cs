using System.Diagnostics;
using Ds01.Core.Identity;
using Ds01.Core.Users;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// user-setup for real accounts made with useradd, run by root with -User against the real dockerd (the starter
/// container): -WhatIf changes nothing, the first run makes files the account owns, a second run changes nothing,
/// and a ~/.ssh link the user planted is refused without touching its target.
/// </summary>
[Collection("engine")]
public class UserSetupTests
{
    private static (int Code, string Out) Cmd(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), $"{program} did not finish");
        return (p.ExitCode, output + err.Result);
    }

    private static UserIdentity MakeAccount(string name)
    {
        var r = Cmd("useradd", "-m", "-U", "-s", "/bin/sh", name);
        Assert.True(r.Code == 0, $"useradd {name}: {r.Out}");
        return new OsIdentitySource().FindByName(name)!;
    }

    private static string Snapshot(string dir) =>
        string.Join("\n", Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order()
            .Select(p => $"{p} {(Directory.Exists(p) ? "dir" : new FileInfo(p).Length.ToString())}"));

    [Fact]
    public void Root_sets_up_a_real_account_WhatIf_changes_nothing_files_are_the_accounts_and_a_second_run_changes_nothing()
    {
        using var bed = new DockerTestBed();
        var account = "d01u" + bed.RunId;
        var user = MakeAccount(account);
        try
        {
            var starter = bed.Name("first");
            var call = $"Initialize-Ds01User -User {account} -HostName gpu1.lab.example.org -StarterContainer {starter} -Image {DockerTestBed.BusyboxImage} -GpuCount 0";
            var before = Snapshot(user.Home);

            var whatIf = bed.Run(call + " -WhatIf");

            Assert.Empty(whatIf.Errors);
            Assert.Equal(before, Snapshot(user.Home));
            Assert.Null(bed.Inspect($"{starter}._.{user.Uid}"));
            Assert.Equal("", Assert.Single(whatIf.Objects<Ds01SetupResult>()).Changed);

            var first = bed.Run(call + " 6>&1");

            Assert.Empty(first.Errors);
            var made = Assert.Single(first.Objects<Ds01SetupResult>());
            Assert.Equal("folders, SSH key, VS Code config, container", made.Changed);
            Assert.Equal(starter, made.Container);
            Assert.StartsWith("http://", made.JupyterUrl);
            Assert.Equal($"ssh {account}@gpu1.lab.example.org", made.SshCommand);
            Assert.True(bed.Inspect($"{starter}._.{user.Uid}")!.State!.Running);
            Assert.Equal(user.Uid.ToString(), bed.Inspect($"{starter}._.{user.Uid}")!.Config!.User.Split(':')[0]);
            // Everything new in the home belongs to the account, the private key only to it.
            var key = Path.Combine(user.Home, ".ssh", "id_ed25519");
            Assert.True(File.Exists(key) && File.Exists(key + ".pub"));
            Assert.All(Directory.EnumerateFileSystemEntries(user.Home, "*", SearchOption.AllDirectories),
                p => Assert.Equal(user.Uid.ToString(), Cmd("stat", "-c", "%u", p).Out.Trim()));
            Assert.Equal("600", Cmd("stat", "-c", "%a", key).Out.Trim());
            Assert.Equal("700", Cmd("stat", "-c", "%a", Path.Combine(user.Home, ".ssh")).Out.Trim());
            Assert.True(Directory.Exists(Path.Combine(user.Home, "data")));
            Assert.Contains($"User {account}", File.ReadAllText(made.VsCodeConfig));
            // The printed next steps: the SSH command and the Jupyter address.
            var told = first.Output.Select(o => o.ToString()).ToList();
            Assert.Contains(told, l => l.Contains(made.SshCommand, StringComparison.Ordinal));
            Assert.Contains(told, l => l.Contains(made.JupyterUrl, StringComparison.Ordinal));
            var afterFirst = Snapshot(user.Home);
            var keyText = File.ReadAllText(key);

            var second = bed.Run(call + " 6>&1");

            Assert.Empty(second.Errors);
            Assert.Equal("", Assert.Single(second.Objects<Ds01SetupResult>()).Changed);
            Assert.Contains(second.Output.Select(o => o.ToString()), l => l.Contains("nothing was changed", StringComparison.Ordinal));
            Assert.Equal(afterFirst, Snapshot(user.Home));
            Assert.Equal(keyText, File.ReadAllText(key));
        }
        finally
        {
            Cmd("userdel", "-r", account);
        }
    }

    [Fact]
    public void A_ssh_link_the_user_planted_is_refused_and_its_target_untouched()
    {
        using var bed = new DockerTestBed();
        var account = "d01l" + bed.RunId;
        var user = MakeAccount(account);
        var target = Directory.CreateTempSubdirectory("ds01-rootssh-").FullName;
        try
        {
            // As the user would: ln -s <root's ssh dir> ~/.ssh (the link is theirs).
            var link = Path.Combine(user.Home, ".ssh");
            File.CreateSymbolicLink(link, target);
            Assert.Equal(0, Cmd("chown", "-h", $"{user.Uid}:{user.Gid}", link).Code);
            var before = Snapshot(user.Home);

            var r = bed.Run($"Initialize-Ds01User -User {account} -HostName gpu1");

            var e = r.SingleError();
            Assert.Equal("UserPathIsSymlink", e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(System.Management.Automation.ErrorCategory.PermissionDenied, e.CategoryInfo.Category);
            Assert.Empty(Directory.EnumerateFileSystemEntries(target));
            Assert.Equal(before, Snapshot(user.Home));
        }
        finally
        {
            Cmd("userdel", "-r", account);
            Directory.Delete(target, true);
        }
    }

    [Fact]
    public void An_admins_Build_Ds01Image_and_Initialize_Ds01Project_for_a_user_never_follow_the_users_dockerfiles_link_into_a_root_owned_directory()
    {
        using var bed = new DockerTestBed();
        // DS01's own place for Dockerfiles, ~/dockerfiles, not the bed's private dockerfiles_root.
        var limits = Path.Combine(bed.Config.ConfigDir, "resource-limits.yaml");
        File.WriteAllLines(limits, File.ReadAllLines(limits).Where(l => !l.StartsWith("dockerfiles_root:", StringComparison.Ordinal)));
        var account = "d01k" + bed.RunId;
        var user = MakeAccount(account);
        var target = Directory.CreateTempSubdirectory("ds01-rootdf-").FullName; // root's, 0700
        var project = "df" + bed.RunId;
        try
        {
            // As the user would: ln -s <a root-owned directory> ~/dockerfiles (the link is theirs).
            var link = Path.Combine(user.Home, "dockerfiles");
            File.CreateSymbolicLink(link, target);
            Assert.Equal(0, Cmd("chown", "-h", $"{user.Uid}:{user.Gid}", link).Code);
            Assert.Equal("0", Cmd("stat", "-c", "%u", target).Out.Trim());
            var before = Snapshot(user.Home);

            foreach (var call in new[]
                     {
                         $"Build-Ds01Image -Project {project} -BaseImage {DockerTestBed.BusyboxImage} -User {account}",
                         $"Initialize-Ds01Project {project} -BaseImage {DockerTestBed.BusyboxImage} -User {account}",
                     })
            {
                var r = bed.Run(call);

                var e = r.SingleError();
                Assert.True(e.FullyQualifiedErrorId.Split(',')[0] == "UserPathIsSymlink", $"{call}: {e.FullyQualifiedErrorId} {e}");
                Assert.Equal(System.Management.Automation.ErrorCategory.PermissionDenied, e.CategoryInfo.Category);
                Assert.Contains(link, e.ToString());
                // Nothing landed in root's directory (no Dockerfile, no temporary file, nothing the user owns) and the home is as it was.
                Assert.Empty(Directory.EnumerateFileSystemEntries(target));
                Assert.Equal(before, Snapshot(user.Home));
                Assert.Equal(target, new FileInfo(link).LinkTarget);
            }
            // Reads too: with a root-only Dockerfile of that name behind the link, an admin's build or update from the
            // project's saved Dockerfile refuses the link instead of building root's file into the user's image.
            var rootFile = Path.Combine(target, project + ".Dockerfile");
            File.WriteAllText(rootFile, $"FROM {DockerTestBed.BusyboxImage}\nLABEL secret=root-only\n");
            File.SetUnixFileMode(rootFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            before = Snapshot(user.Home); // the enumeration lists what the link shows
            foreach (var call in new[]
                     {
                         $"Build-Ds01Image -Project {project} -User {account}",
                         $"Update-Ds01Image -Project {project} -Rebuild -User {account}",
                     })
            {
                var e = bed.Run(call).SingleError();
                Assert.True(e.FullyQualifiedErrorId.Split(',')[0] == "UserPathIsSymlink", $"{call}: {e.FullyQualifiedErrorId} {e}");
                Assert.Equal(new[] { rootFile }, Directory.EnumerateFileSystemEntries(target));
                Assert.Equal(before, Snapshot(user.Home));
            }
            Assert.Null(bed.Engine.InspectImageAsync($"ds01-{user.Uid}/{project}:latest", CancellationToken.None).GetAwaiter().GetResult());
        }
        finally
        {
            Cmd("userdel", "-r", account);
            Directory.Delete(target, true);
        }
    }

    [Fact]
    public void Seed_user_setup_makes_what_the_cmdlet_makes_and_a_second_run_changes_nothing()
    {
        using var bed = new DockerTestBed();
        var account = "d01s" + bed.RunId;
        var user = MakeAccount(account);
        try
        {
            var first = Ds01Cli.RunWith(bed.Env, null, "user-setup", account, "--host=gpu1");
            Assert.True(first.ExitCode == 0, first.Err);
            Assert.Contains($"ssh {account}@gpu1", first.Out);
            var key = Path.Combine(user.Home, ".ssh", "id_ed25519");
            Assert.Equal(user.Uid.ToString(), Cmd("stat", "-c", "%u", key).Out.Trim());
            Assert.True(File.Exists(Path.Combine(user.Home, ".config", "ds01", UserSetup.VsCodeConfigName)));
            var after = Snapshot(user.Home);

            var second = Ds01Cli.RunWith(bed.Env, null, "user-setup", account, "--host=gpu1");

            Assert.True(second.ExitCode == 0, second.Err);
            Assert.Contains("nothing was changed", second.Out);
            Assert.Equal(after, Snapshot(user.Home));
        }
        finally
        {
            Cmd("userdel", "-r", account);
        }
    }
}

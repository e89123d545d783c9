using System.Diagnostics;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Identity;

namespace Ds01.Core.Users;

/// <summary>The steps user-setup takes for a user; each Missing list or flag is what is not there yet.</summary>
public sealed record UserSetupPlan(UserIdentity Owner, IReadOnlyList<string> HomeDirs, IReadOnlyList<string> MissingDirs,
    string SshKeyPath, bool SshKeyMissing, string VsCodeConfigPath, string VsCodeConfigText, bool VsCodeConfigMissing, string Host)
{
    public string SshCommand => $"ssh {Owner.Name}@{Host}";
    public bool NothingToDo => MissingDirs.Count == 0 && !SshKeyMissing && !VsCodeConfigMissing;
}

/// <summary>
/// user-setup: the home folders Ds01 uses (the workspace root, the Dockerfiles folder, ~/data, ~/.ssh), an SSH key
/// made by ssh-keygen when ~/.ssh/id_ed25519 is missing (never overwritten), and a VS Code Remote-SSH snippet in
/// ~/.config/ds01 (~/.ssh/config is never edited). Plan first (reads only, so -WhatIf and bad input change nothing),
/// then each missing step on its own, so a second run changes nothing. An admin acting for a user writes through
/// UserTree: no link the user planted is followed, and what is made belongs to the user.
/// </summary>
public sealed class UserSetup
{
    public const string VsCodeConfigName = "vscode-remote-ssh.conf";
    private readonly Ds01Session _session;

    public UserSetup(Ds01Session session) => _session = session;

    private bool ForOther(UserIdentity owner) => UserTree.ActingForOther(_session.Caller, owner);
    private bool Chown(UserIdentity owner) => _session.Caller.Uid == 0 && owner.Uid != 0;

    /// <param name="host">The server's name in the SSH command and the snippet; default this machine's name.</param>
    public UserSetupPlan Plan(UserIdentity owner, string? host = null)
    {
        host ??= Environment.MachineName;
        if (host.Length == 0 || host.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidHostName",
                $"'{host}' is not a host name (letters, digits, '.', '-' and '_').", host, "Pass the server's name as users reach it, e.g. -HostName gpu1.lab.example.org.");
        var home = Path.GetFullPath(owner.Home);
        if (!Directory.Exists(home))
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "HomeNotFound",
                $"{owner.Name}'s home directory {home} does not exist.", owner.Name, "Ask an admin to create the account's home (useradd -m).");
        var dirs = HomeLayout(owner, home);
        var missing = dirs.Where(d => !Exists(d, owner)).ToList();
        var key = Path.Combine(home, ".ssh", "id_ed25519");
        var vscode = Path.Combine(home, ".config", "ds01", VsCodeConfigName);
        return new UserSetupPlan(owner, dirs, missing, key, !Exists(key, owner), vscode, VsCodeSnippet(owner, host), !Exists(vscode, owner), host);
    }

    /// <summary>
    /// The folders the rest of Ds01 expects: the workspace root (workspace_root before {project}), the Dockerfiles
    /// folder (dockerfiles_root), ~/data and ~/.ssh. Only those inside the home: a root elsewhere is the admin's to make.
    /// </summary>
    public IReadOnlyList<string> HomeLayout(UserIdentity owner, string home)
    {
        var limits = _session.Config.ResourceLimits;
        var ws = limits.WorkspaceRoot ?? ResourceLimitsConfig.DefaultWorkspaceRoot;
        var cut = ws.IndexOf("{project}", StringComparison.Ordinal);
        var candidates = new[]
        {
            cut >= 0 ? ws[..cut] : ws,
            limits.DockerfilesRoot ?? ResourceLimitsConfig.DefaultDockerfilesRoot,
            "{home}/data",
            "{home}/.ssh",
        };
        return candidates
            .Select(t => MountPolicy.Expand(t, owner, null).TrimEnd('/'))
            .Where(p => p.Length > 0 && !p.Contains('{'))
            .Select(Path.GetFullPath)
            .Where(p => p.StartsWith(home.TrimEnd('/') + "/", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The Remote-SSH host entry for the user's own computer's ~/.ssh/config.</summary>
    public static string VsCodeSnippet(UserIdentity owner, string host) =>
        $"# VS Code Remote-SSH: copy this into ~/.ssh/config on YOUR computer (VS Code: \"Remote-SSH: Open SSH Configuration File\"),\n" +
        $"# then \"Remote-SSH: Connect to Host...\" and choose ds01-{host}. Ds01 never edits an ssh config for you.\n" +
        $"Host ds01-{host}\n" +
        $"    HostName {host}\n" +
        $"    User {owner.Name}\n" +
        $"    # The key on your computer whose .pub is in ~/.ssh/authorized_keys on {host}:\n" +
        $"    IdentityFile ~/.ssh/id_ed25519\n" +
        $"    ServerAliveInterval 60\n";

    public void CreateDirectories(UserSetupPlan plan)
    {
        foreach (var dir in plan.MissingDirs)
        {
            // ~/.ssh is private (sshd refuses keys in a folder others can read).
            var mode = Path.GetFileName(dir) == ".ssh" ? 0x1C0 : 0x1ED;
            if (ForOther(plan.Owner)) UserTree.CreateDirectory(dir, plan.Owner, Chown(plan.Owner), mode);
            else Directory.CreateDirectory(dir, (UnixFileMode)mode);
        }
    }

    /// <summary>
    /// Runs ssh-keygen (no passphrase, comment user@host) for a missing ~/.ssh/id_ed25519; an existing key is never
    /// replaced. For another user the key is made in a private temporary folder and written through UserTree.
    /// </summary>
    public void CreateSshKey(UserSetupPlan plan)
    {
        if (Exists(plan.SshKeyPath, plan.Owner)) return;
        var sshDir = Path.GetDirectoryName(plan.SshKeyPath)!;
        if (!ForOther(plan.Owner))
        {
            Directory.CreateDirectory(sshDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            SshKeygen(plan.SshKeyPath, $"{plan.Owner.Name}@{plan.Host}");
            return;
        }
        var temp = Directory.CreateTempSubdirectory("ds01-key-");
        try
        {
            var made = Path.Combine(temp.FullName, "id_ed25519");
            SshKeygen(made, $"{plan.Owner.Name}@{plan.Host}");
            UserTree.CreateDirectory(sshDir, plan.Owner, Chown(plan.Owner), 0x1C0);
            // The public half first: a key without its .pub is what a reader would take for a half-done setup.
            UserTree.WriteFile(plan.SshKeyPath + ".pub", File.ReadAllText(made + ".pub"), plan.Owner, Chown(plan.Owner), 0x1A4);
            UserTree.WriteFile(plan.SshKeyPath, File.ReadAllText(made), plan.Owner, Chown(plan.Owner), 0x180);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    private static void SshKeygen(string path, string comment)
    {
        var psi = new ProcessStartInfo("ssh-keygen")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path }) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "SshKeygenNotFound", $"ssh-keygen could not be run: {e.Message}.", "ssh-keygen",
                "Install OpenSSH's client (apt-get install openssh-client), or make the key yourself: ssh-keygen -t ed25519.");
        }
        using (p)
        {
            // stdin closed at once: should a key appear meanwhile, ssh-keygen's "Overwrite?" reads no and keeps it.
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "SshKeygenFailed",
                    $"ssh-keygen failed (exit {p.ExitCode}): {err.Result.Trim()}", path, "Make the key yourself: ssh-keygen -t ed25519.");
        }
    }

    /// <summary>Writes the snippet unless a file has that name already (the user may have edited it).</summary>
    public void WriteVsCodeConfig(UserSetupPlan plan)
    {
        if (Exists(plan.VsCodeConfigPath, plan.Owner)) return;
        if (ForOther(plan.Owner))
        {
            UserTree.WriteFile(plan.VsCodeConfigPath, plan.VsCodeConfigText, plan.Owner, Chown(plan.Owner));
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(plan.VsCodeConfigPath)!);
        // CreateNew: a file that appeared since the plan is the user's and stays.
        using var f = new FileStream(plan.VsCodeConfigPath, FileMode.CreateNew, FileAccess.Write);
        using var w = new StreamWriter(f);
        w.Write(plan.VsCodeConfigText);
    }

    /// <summary>The setup as it is now, with what this command did.</summary>
    public Ds01SetupResult Read(UserSetupPlan plan, IReadOnlyList<string> changed, string container = "", string jupyterUrl = "") => new()
    {
        User = plan.Owner.Name,
        HomeDirs = string.Join(", ", plan.HomeDirs),
        SshKeyPath = plan.SshKeyPath,
        VsCodeConfig = plan.VsCodeConfigPath,
        VsCodeConfigured = Exists(plan.VsCodeConfigPath, plan.Owner),
        Container = container,
        JupyterUrl = jupyterUrl,
        SshCommand = plan.SshCommand,
        Changed = string.Join(", ", changed),
    };

    /// <summary>The next steps printed at the end: how to connect, where Jupyter is, where help is.</summary>
    public static IReadOnlyList<string> NextSteps(UserSetupPlan plan, string container, string jupyterUrl)
    {
        var lines = new List<string>
        {
            $"Connect from your computer: {plan.SshCommand}",
            $"VS Code: copy {plan.VsCodeConfigPath} into ~/.ssh/config on your computer, then Remote-SSH: Connect to Host ds01-{plan.Host}.",
            $"Your public key (for GitHub and the like): {plan.SshKeyPath}.pub",
        };
        if (container.Length > 0)
        {
            lines.Add($"Your container {container} is running: Enter-Ds01Container {container} (container-run {container}).");
            if (jupyterUrl.Length > 0)
                lines.Add($"Jupyter: start it inside with 'jupyter lab --ip=0.0.0.0 --port=8888', then open {jupyterUrl} " +
                          $"(from your computer through: ssh -L 8888:{new Uri(jupyterUrl).Host}:8888 {plan.Owner.Name}@{plan.Host}).");
        }
        else lines.Add("Make a container: Deploy-Ds01Container my-project -Image <image> (container-deploy my-project), or Initialize-Ds01Project my-thesis -Framework pytorch.");
        lines.Add("Help: Get-Help about_Ds01_Containers; every command explains itself with -Guided (--guided).");
        return lines;
    }

    public void Record(UserSetupPlan plan, IReadOnlyList<string> changed)
    {
        if (changed.Count > 0)
            _session.Recorder.Record("user.setup", plan.Owner, new Dictionary<string, object?> { ["changed"] = string.Join(",", changed) });
    }

    /// <summary>Whether the name is taken; for another user without following their links (a link on the way is refused).</summary>
    private bool Exists(string path, UserIdentity owner) =>
        ForOther(owner) ? UserTree.Exists(path, owner) : Posix.Stat(path, noFollow: true) is not null;
}

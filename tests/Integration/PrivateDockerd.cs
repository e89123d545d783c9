using System.Diagnostics;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// A second dockerd of one test, beside the suite's: its own work dir (data root, pidfile, log), exec root and
/// socket, started and stopped through scripts/test-dockerd.sh (which derives them from DS01_TEST_DOCKER_DIR and
/// imports the busybox test image). It can be SIGKILLed and restarted on the same data root. Only the process in
/// its own pidfile is ever signalled, checked against /proc (comm dockerd, our --pidfile), never found by name;
/// Dispose stops it, or after a kill the containerd it left, found by the pidfile under its own exec root.
/// </summary>
public sealed class PrivateDockerd : IDisposable
{
    private static readonly string Script = Path.Combine(RepoPaths.Root, "scripts", "test-dockerd.sh");

    public PrivateDockerd()
    {
        if (Environment.UserName != "root")
            Assert.Fail("A private dockerd needs root (the daemon runs as root); run the integration tests as root, as .ci/run does.");
        // Beside the suite's daemon dir (on the same disk as its data root), unique to this instance.
        var suite = Environment.GetEnvironmentVariable("DS01_TEST_DOCKER_DIR") is { Length: > 0 } d ? d : Path.Combine(RepoPaths.Root, ".ci-work", "docker");
        WorkDir = $"{Path.GetFullPath(suite).TrimEnd('/')}-kill-{Guid.NewGuid().ToString("N")[..8]}";
        Directory.CreateDirectory(WorkDir);
    }

    public string WorkDir { get; }
    private string PidFile => Path.Combine(WorkDir, "dockerd.pid");
    public string LogFile => Path.Combine(WorkDir, "dockerd.log");

    /// <summary>unix://… of the daemon's socket, known after the first Start.</summary>
    public string? Host { get; private set; }
    public string SocketPath => Host!["unix://".Length..];

    /// <summary>Starts the daemon (again, on the same data root after a kill) and waits until it answers.</summary>
    public void Start()
    {
        var (code, stdout, stderr) = Script_("start", TimeSpan.FromSeconds(180));
        Assert.True(code == 0, $"test-dockerd.sh start for {WorkDir} exited {code}: {stderr}");
        var line = stdout.Split('\n').Single(l => l.StartsWith("export DOCKER_HOST=", StringComparison.Ordinal));
        Host = line["export DOCKER_HOST=".Length..].Trim();
    }

    /// <summary>The pid in our pidfile when that process is our dockerd, else null (the pid may have been reused).</summary>
    public int? Pid
    {
        get
        {
            if (!File.Exists(PidFile)) return null;
            if (!int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid)) return null;
            return IsOurs(pid, "dockerd", $" --pidfile {PidFile} ") ? pid : null;
        }
    }

    private static bool IsOurs(int pid, string comm, string inCmdline)
    {
        try
        {
            if (File.ReadAllText($"/proc/{pid}/comm").Trim() != comm) return false;
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Contains(inCmdline, StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>SIGKILL to our dockerd, then waits until it is gone; its socket file stays, refusing connections.</summary>
    public void Kill()
    {
        var pid = Pid ?? throw new InvalidOperationException($"no dockerd of {WorkDir} is running");
        var containerd = ContainerdPid;
        using (var p = Process.GetProcessById(pid)) p.Kill(); // SIGKILL on Unix
        WaitGone(pid, TimeSpan.FromSeconds(30));
        // dockerd's containerd normally dies with it (a parent-death signal), but not at once, and a dying or
        // unreaped one still counts as running: a dockerd restarted meanwhile waits for its socket and gives up
        // ("timeout waiting for containerd to start"). So it is ended here too, by the pidfile under our own exec
        // root, and its pidfile dropped once it is dead (a zombie stays until PID 1 reaps it); the containers' shims
        // live on, as after a real crash, and the restarted daemon's containerd finds them.
        if (containerd is { } c)
        {
            // Checked again just before the signal: a dead containerd's pid could have been reused by now.
            if (ContainerdPid == c)
                try { using var p = Process.GetProcessById(c); p.Kill(); }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { /* gone already */ }
            WaitGone(c, TimeSpan.FromSeconds(30));
            File.Delete(ContainerdPidFile);
        }
    }

    /// <summary>The containerd dockerd started, by the pidfile under our own exec root (the script's layout).</summary>
    private string ContainerdPidFile => Path.Combine(Path.GetDirectoryName(SocketPath)!, "exec", "containerd", "containerd.pid");

    private int? ContainerdPid
    {
        get
        {
            try
            {
                return int.TryParse(File.ReadAllText(ContainerdPidFile).Trim(), out var pid) &&
                       IsOurs(pid, "containerd", Path.Combine(Path.GetDirectoryName(SocketPath)!, "exec", "containerd")) ? pid : null;
            }
            catch (IOException) { return null; }
        }
    }

    private static void WaitGone(int pid, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (Directory.Exists($"/proc/{pid}") && !IsZombieOrGone(pid) && DateTime.UtcNow < until) Thread.Sleep(20);
        Assert.False(Directory.Exists($"/proc/{pid}") && !IsZombieOrGone(pid), $"pid {pid} still runs after SIGKILL");
    }

    private static bool IsZombieOrGone(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (IOException) { return true; }
    }

    private (int Code, string Out, string Err) Script_(string verb, TimeSpan limit)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add(verb);
        psi.Environment["DS01_TEST_DOCKER_DIR"] = WorkDir;
        // Not the suite's socket or exec root: the script derives both from the work dir when these are unset.
        psi.Environment.Remove("DS01_TEST_DOCKER_SOCK");
        psi.Environment.Remove("DS01_TEST_DOCKER_RUNDIR");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            return (-1, stdout.Result, stderr.Result + $" (no answer within {limit.TotalSeconds:0} s)");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        if (Host is not null && Pid is null)
        {
            // Killed and not restarted: its containerd (and the shims of containers that ran) outlived it. A restart
            // takes them over and a normal stop ends them all, as in production.
            try { Start(); }
            catch (Exception) { /* the stop below still removes what it can */ }
        }
        Script_("stop", TimeSpan.FromSeconds(120));
        // dockerd leaves its data root bind-mounted on itself after it stops; that mount is ours to undo. Anything
        // else still mounted under the work dir (a container's layers) keeps the dir, rather than deleting under it.
        var data = Path.Combine(WorkDir, "data");
        if (File.ReadAllLines("/proc/mounts").Any(l => l.Split(' ')[1] == data))
        {
            using var umount = Process.Start(new ProcessStartInfo("umount") { ArgumentList = { data } })!;
            umount.WaitForExit(30_000);
        }
        if (!File.ReadAllText("/proc/mounts").Contains(" " + WorkDir + "/", StringComparison.Ordinal))
        {
            try { Directory.Delete(WorkDir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}

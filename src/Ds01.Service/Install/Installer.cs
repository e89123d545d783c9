using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Ds01.Core;
using Ds01.Core.Configuration;

namespace Ds01.Service.Install;

/// <summary>
/// `ds01d install`: the unit (config/systemd/ds01d.service, embedded), ds01.slice and one slice per configured
/// group carrying its aggregate limits (groups.&lt;g&gt;.aggregate), so containers' cgroup parents
/// (ds01-GROUP-USER.slice, see ContainerService) nest under them; a manifest of what it wrote, which
/// `ds01d uninstall` removes again. Config, state and the event log are left in place.
/// </summary>
internal sealed class Installer
{
    private readonly string _root;
    private readonly bool _systemctl;

    public Installer(string root, bool systemctl)
    {
        _root = root;
        _systemctl = systemctl && root == "/";
    }

    private string UnitDir => Under("/etc/systemd/system");
    private string Manifest => Path.Combine(UnitDir, "ds01d.installed");
    private string Under(string path) => Path.Combine(_root, path.TrimStart('/'));

    public static string UnitTemplate()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ds01d.service")!;
        return new StreamReader(stream).ReadToEnd();
    }

    public static string SliceName(string group) => $"ds01-{group.Replace('-', '_')}.slice";

    public static string SliceUnit(GroupConfig group)
    {
        var lines = new List<string> { "[Unit]", $"Description=Ds01 group {group.Name}: all its members' containers", "", "[Slice]" };
        if (group.Aggregate?.Cpu is { } cpu) lines.Add($"CPUQuota={Math.Round(cpu * 100).ToString(CultureInfo.InvariantCulture)}%");
        if (group.Aggregate?.MemoryBytes is { } mem) lines.Add($"MemoryMax={mem.ToString(CultureInfo.InvariantCulture)}");
        return string.Join("\n", lines) + "\n";
    }

    public int Install(string exec, string configDir)
    {
        var config = new ConfigStore(new Ds01Paths(Under(configDir), Under("/var/lib/ds01"), Under("/var/log/ds01"))).ResourceLimits;
        Directory.CreateDirectory(UnitDir);
        var written = new List<string>();
        void Write(string name, string text)
        {
            var path = Path.Combine(UnitDir, name);
            File.WriteAllText(path, text);
            written.Add(path);
            Console.WriteLine($"wrote {path}");
        }
        Write("ds01d.service", UnitTemplate().Replace("@EXEC@", exec).Replace("@CONFIG@", configDir));
        Write("ds01.slice", "[Unit]\nDescription=Ds01: every lab container\n\n[Slice]\n");
        foreach (var group in config.Groups.Values.OrderBy(g => g.Name, StringComparer.Ordinal))
            Write(SliceName(group.Name), SliceUnit(group));
        Directory.CreateDirectory(Under("/var/lib/ds01"));
        File.SetUnixFileMode(Under("/var/lib/ds01"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Under("/var/log/ds01"));
        var log = Under("/var/log/ds01/events.jsonl");
        if (!File.Exists(log)) File.WriteAllText(log, "");
        // Readable by all (Get-Ds01Event), written by ds01d alone.
        File.SetUnixFileMode(log, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.WriteAllLines(Manifest, written);
        if (_systemctl)
        {
            Systemctl("daemon-reload");
            Systemctl("enable", "--now", "ds01d.service");
        }
        Console.WriteLine("Users reach Docker through /run/ds01/docker.sock; leave the docker group to admins.");
        return 0;
    }

    public int Uninstall()
    {
        if (_systemctl) Systemctl("disable", "--now", "ds01d.service");
        if (File.Exists(Manifest))
        {
            foreach (var path in File.ReadAllLines(Manifest).Where(p => p.Length > 0))
            {
                if (!File.Exists(path)) continue;
                File.Delete(path);
                Console.WriteLine($"removed {path}");
            }
            File.Delete(Manifest);
        }
        if (_systemctl) Systemctl("daemon-reload");
        Console.WriteLine("Config (/etc/ds01), state (/var/lib/ds01) and the event log (/var/log/ds01) were kept.");
        return 0;
    }

    private static void Systemctl(params string[] args)
    {
        var start = new ProcessStartInfo("systemctl");
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start) ?? throw new Ds01Exception(Ds01ErrorKind.NotInstalled, "SystemctlMissing", "systemctl could not be started.", null);
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "SystemctlFailed", $"systemctl {string.Join(' ', args)} failed with exit code {p.ExitCode}.", null,
                "See journalctl -u ds01d.");
    }
}

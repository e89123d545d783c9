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
        var config = new ConfigStore(new Ds01Paths(Under(configDir), Under(Ds01Paths.DefaultStateDir), Under(Ds01Paths.DefaultLogDir))).ResourceLimits;
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
        Directory.CreateDirectory(Under(Ds01Paths.DefaultStateDir));
        File.SetUnixFileMode(Under(Ds01Paths.DefaultStateDir), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Under(Ds01Paths.DefaultLogDir));
        var log = Path.Combine(Under(Ds01Paths.DefaultLogDir), Ds01Paths.EventLogFileName);
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

    /// <summary>
    /// `ds01d install --direct`: no unit and no service; users' own processes share the state dir and the log, so
    /// those are made root-owned with the modes of DirectModeLayout (created, or repaired when they exist).
    /// </summary>
    public int InstallDirect(string configDir)
    {
        var paths = new Ds01Paths(Under(configDir), Under(Ds01Paths.DefaultStateDir), Under(Ds01Paths.DefaultLogDir));
        foreach (var line in DirectModeLayout.Apply(paths)) Console.WriteLine(line);
        Console.WriteLine("Direct mode: Ds01's rules bind what is created through Ds01; anyone in the docker group can go around them.");
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

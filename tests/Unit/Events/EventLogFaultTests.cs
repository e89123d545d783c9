using System.Diagnostics;
using System.Text.Json;
using Ds01.Core.Events;
using EventLog = Ds01.Core.Events.EventLog;
using Xunit;

namespace Ds01.Tests.Unit.Events;

/// <summary>
/// The event writer against the faults a lab server really has: a FIFO or a directory planted at the log path,
/// a full or read-only log file system. It must never hang, never leave a partial line, and say why.
/// The tmpfs cases mount real file systems (the tests run as root, as .ci/run does).
/// </summary>
public sealed class EventLogFaultTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ds01-evfault-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly List<string> _mounts = new();

    public EventLogFaultTests() => Directory.CreateDirectory(_dir);

    private static Dictionary<string, object?> D(int n, int pad = 0) => new() { ["container"] = $"c{n}._.1000", ["n"] = n, ["pad"] = new string('x', pad) };

    [Fact]
    public void A_FIFO_at_the_log_path_with_no_reader_fails_at_once_instead_of_hanging()
    {
        var file = Path.Combine(_dir, "events.jsonl");
        Sh("mkfifo", file);
        var watch = Stopwatch.StartNew();
        var problem = new EventLog(file).Write("container.start", "alice", D(1));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.NotNull(problem);
        Assert.Contains("container.start", problem);
        Assert.Contains(file, problem);
    }

    [Fact]
    public void A_FIFO_that_someone_reads_is_refused_because_it_is_not_a_regular_file()
    {
        var file = Path.Combine(_dir, "events.jsonl");
        Sh("mkfifo", file);
        // A reader holds the FIFO open, so a non-blocking open for writing succeeds; the type check must refuse it.
        using var reader = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(OpenReadNonBlocking(file), true), FileAccess.Read);
        var problem = new EventLog(file).Write("container.start", "alice", D(1));
        Assert.NotNull(problem);
        Assert.Contains("FIFO", problem);
    }

    [Fact]
    public void A_directory_at_the_log_path_gives_a_warning()
    {
        var file = Path.Combine(_dir, "events.jsonl");
        Directory.CreateDirectory(file);
        var problem = new EventLog(file).Write("container.stop", "alice", D(1));
        Assert.NotNull(problem);
        Assert.Contains("directory", problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_full_log_file_system_leaves_only_whole_lines_and_warns()
    {
        var mnt = Mount("size=64k");
        var file = Path.Combine(mnt, "events.jsonl");
        var log = new EventLog(file);
        var problems = new List<string>();
        for (var i = 0; i < 100; i++)
            if (log.Write("container.create", "alice", D(i, 1500)) is { } p) problems.Add(p);
        Assert.NotEmpty(problems);
        Assert.Contains(problems, p => p.Contains("full", StringComparison.Ordinal));
        // Fill what is left to the last byte with another file, then write again: still only whole lines.
        try { File.WriteAllBytes(Path.Combine(mnt, "filler"), new byte[64 * 1024]); } catch (IOException) { }
        for (var i = 100; i < 110; i++) Assert.NotNull(log.Write("container.create", "alice", D(i, 100)));
        var lines = File.ReadAllText(file).Split('\n');
        Assert.Equal("", lines[^1]);
        Assert.True(lines.Length > 5, "some events fit before the disk filled");
        foreach (var line in lines[..^1]) Assert.Equal("container.create", JsonDocument.Parse(line).RootElement.GetProperty("event_type").GetString());
    }

    [Fact]
    public void A_read_only_log_file_system_gives_a_warning_and_writes_nothing()
    {
        var mnt = Mount("size=64k");
        var file = Path.Combine(mnt, "events.jsonl");
        Assert.Null(new EventLog(file).Write("container.create", "alice", D(0)));
        Sh("mount", "-o", "remount,ro", mnt);
        var problem = new EventLog(file).Write("container.create", "alice", D(1));
        Assert.NotNull(problem);
        Assert.Contains("Read-only", problem);
        Assert.Single(File.ReadAllLines(file));
    }

    [Fact]
    public void A_huge_event_is_cut_to_one_line_under_4096_bytes()
    {
        var file = Path.Combine(_dir, "events.jsonl");
        Assert.Null(new EventLog(file).Write("image.build", new string('u', 5000), new Dictionary<string, object?> { ["log"] = new string('z', 100_000) }));
        var line = File.ReadAllBytes(file);
        Assert.True(line.Length < 4096, $"{line.Length} bytes");
        Assert.Equal((byte)'\n', line[^1]);
        Assert.True(JsonDocument.Parse(line).RootElement.GetProperty("details").GetProperty("truncated").GetBoolean());
    }

    private string Mount(string options)
    {
        var mnt = Path.Combine(_dir, "mnt" + _mounts.Count);
        Directory.CreateDirectory(mnt);
        Sh("mount", "-t", "tmpfs", "-o", options, "tmpfs", mnt);
        _mounts.Add(mnt);
        return mnt;
    }

    private static void Sh(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)}: {err} (these tests run as root)");
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);

    private static IntPtr OpenReadNonBlocking(string path)
    {
        var fd = open(path, 0x800 /* O_RDONLY|O_NONBLOCK */);
        Assert.True(fd >= 0, "open the FIFO for reading");
        return fd;
    }

    public void Dispose()
    {
        foreach (var m in _mounts) { try { Sh("umount", m); } catch (Exception) { } }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

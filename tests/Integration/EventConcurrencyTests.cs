using System.Text.Json;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>Concurrent writers never interleave: each line is one write(2) on O_APPEND under PIPE_BUF.</summary>
[Collection("engine")]
public class EventConcurrencyTests
{
    [Fact]
    public void Eight_processes_writing_a_thousand_events_each_leave_only_whole_lines()
    {
        using var config = new TempConfig();
        var log = config.EventLogFile;
        // Big lines (about 3 KB) make a torn or interleaved write likely if the writer were not atomic.
        const string script = "$null = [System.Reflection.Assembly]::LoadFrom($env:DS01_TEST_CORE); $l = [Ds01.Core.Events.EventLog]::new($env:DS01_TEST_LOG, 'p' + $env:DS01_TEST_ID); " +
            "$pad = 'x' * 3000; foreach ($i in 1..1000) { $d = [System.Collections.Generic.Dictionary[string,object]]::new(); " +
            "$d['n'] = $i; $d['p'] = [int]$env:DS01_TEST_ID; $d['pad'] = $pad; $w = $l.Write('test.concurrent', 'u', $d); if ($w) { throw $w } }";
        var procs = Enumerable.Range(1, 8).Select(i =>
        {
            var env = config.Env;
            env["DS01_TEST_LOG"] = log;
            env["DS01_TEST_ID"] = i.ToString();
            env["DS01_TEST_CORE"] = Path.Combine(Path.GetDirectoryName(RepoPaths.ModuleManifest)!, "Ds01.Core.dll");
            return Ds01Cli.Start(env, null, "-c", script);
        }).ToList();
        foreach (var p in procs)
        {
            var r = Ds01Cli.Wait(p, new[] { "-c", "writer" });
            Assert.True(r.ExitCode == 0, r.Err);
        }
        var lines = File.ReadAllText(log).Split('\n');
        Assert.Equal("", lines[^1]);
        Assert.Equal(8000, lines.Length - 1);
        var seen = new HashSet<(int, int)>();
        foreach (var line in lines[..^1])
        {
            Assert.True(line.Length < 4096, $"line of {line.Length} bytes");
            var d = JsonDocument.Parse(line).RootElement.GetProperty("details");
            Assert.True(seen.Add((d.GetProperty("p").GetInt32(), d.GetProperty("n").GetInt32())));
        }
        Assert.Equal(8000, seen.Count);
    }
}

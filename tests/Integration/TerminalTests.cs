using System.Diagnostics;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// The built ds01 driven as a person would, in a real terminal (tmux): keys sent with send-keys, the screen read
/// with capture-pane. One name picker (Spectre.Console's selection) and one guided flow, against the real dockerd.
/// </summary>
[Collection("engine")]
public class TerminalTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    internal static string Ds01Exe => Path.Combine(Path.GetDirectoryName(Ds01Cli.Dll)!, "ds01");

    /// <summary>A tmux server of its own (-L), so nothing else's sessions are touched; killed on dispose.</summary>
    internal sealed class Tmux : IDisposable
    {
        private readonly string _socket = "ds01-test-" + Guid.NewGuid().ToString("N")[..8];

        public string Run(params string[] args)
        {
            var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-L");
            psi.ArgumentList.Add(_socket);
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"tmux {string.Join(' ', args)}: {error}");
            return output;
        }

        /// <summary>Starts ds01 with these arguments in a 200x50 terminal; the shell prints ds01's exit code after it.</summary>
        public void Start(IDictionary<string, string?> env, params string[] ds01Args)
        {
            var args = new List<string> { "new-session", "-d", "-s", "t", "-x", "200", "-y", "50" };
            foreach (var (k, v) in env) { args.Add("-e"); args.Add($"{k}={v}"); }
            // Arguments travel as sh's positional parameters, never spliced into the script text.
            args.AddRange(["sh", "-c", "\"$0\" \"$@\"; echo \"ds01-exit=$?\"; sleep 600", Ds01Exe, .. ds01Args]);
            Run([.. args]);
        }

        public string Screen() => Run("capture-pane", "-p", "-t", "t", "-S", "-200");

        public void Keys(params string[] keys) => Run(["send-keys", "-t", "t", .. keys]);

        /// <summary>Waits (generously: the machine is shared) until the screen shows the text.</summary>
        public string WaitFor(string text, int seconds = 120)
        {
            var until = DateTime.UtcNow.AddSeconds(seconds);
            string screen;
            do
            {
                screen = Screen();
                if (screen.Contains(text, StringComparison.Ordinal)) return screen;
                Thread.Sleep(250);
            } while (DateTime.UtcNow < until);
            Assert.Fail($"the terminal never showed '{text}'; it shows:\n{screen}");
            return screen;
        }

        public void Dispose()
        {
            try { Run("kill-server"); } catch (Exception) { /* already gone */ }
        }
    }

    [Fact]
    public void Container_start_without_a_name_offers_the_stopped_containers_and_starts_the_one_picked_with_the_arrow_keys()
    {
        using var bed = new DockerTestBed();
        string a = bed.Name("pa"), b = bed.Name("pb"), running = bed.Name("pc");
        Assert.Empty(bed.Run($"'{a}','{b}','{running}' | ForEach-Object {{ New-Ds01Container $_ -Image {Img} -GpuCount 0 }}; Start-Ds01Container {running}").Errors);

        using var tmux = new Tmux();
        tmux.Start(bed.Env, "container-start");
        var screen = tmux.WaitFor(b);
        Assert.Contains("Choose a container", screen);
        Assert.Contains(a, screen);
        Assert.DoesNotContain(running, screen);
        tmux.Keys("Down");
        tmux.Keys("Enter");
        screen = tmux.WaitFor("ds01-exit=");
        Assert.Contains("ds01-exit=0", screen);
        Assert.True(bed.Inspect(bed.Tag("pb"))!.State!.Running);
        Assert.False(bed.Inspect(bed.Tag("pa"))!.State!.Running);
    }

    [Fact]
    public void Guided_container_create_explains_asks_and_creates_what_was_answered()
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("guided");
        var flow = Core.Guidance.GuidedFlows.Find("New-Ds01Container")!;

        using var tmux = new Tmux();
        tmux.Start(bed.Env, "container-create", "--guided", $"--image={Img}");
        tmux.WaitFor(flow.Steps[0].Title);
        tmux.WaitFor("Name for the new container");
        tmux.Keys("-l", name);
        tmux.Keys("Enter");
        tmux.WaitFor("How many GPUs");
        tmux.Keys("0", "Enter");
        var screen = tmux.WaitFor(Core.Guidance.GuidedFlow.Confirm);
        Assert.Contains(flow.Steps[2].Title, screen);
        tmux.Keys("y", "Enter");
        screen = tmux.WaitFor("ds01-exit=");
        Assert.Contains("ds01-exit=0", screen);
        var created = bed.Run($"Get-Ds01Container {name}").Objects<Core.Containers.Ds01Container>().Single();
        Assert.Equal((Img, "", Core.Containers.ContainerState.Created), (created.Image, created.Gpu, created.State));
    }
}

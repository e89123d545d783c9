using System.Text.RegularExpressions;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>
/// Nothing is run through a shell with interpolated input: every process start and every container command in
/// src/ is an argv. A shell is allowed only with a script that is constant text (values go in as positional
/// arguments, as UserSetupScript.Command does), and UseShellExecute is never true.
/// </summary>
public class NoShellTests
{
    private static readonly Regex ShellDashC = new(
        "\"(?:/bin/|/usr/bin/)?(?:sh|bash|dash|zsh)\"\\s*,\\s*(?:new\\s*(?:string)?\\[\\]\\s*\\{\\s*|\\[\\s*)?\"-c\"\\s*,\\s*(?<script>[^,\\]\\)}]+)", RegexOptions.CultureInvariant);
    private static readonly Regex ShellInOneString = new("\"(?:/bin/|/usr/bin/)?(?:sh|bash) -c", RegexOptions.CultureInvariant);
    private static readonly Regex ShellExecuteTrue = new(@"UseShellExecute\s*=\s*true", RegexOptions.CultureInvariant);

    /// <summary>Each place in <paramref name="source"/> that hands a shell a script built from values.</summary>
    public static IEnumerable<string> Offences(string file, string source)
    {
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("//", StringComparison.Ordinal)) continue;
            if (ShellExecuteTrue.IsMatch(line)) yield return $"{file}:{i + 1}: UseShellExecute = true";
            if (ShellInOneString.IsMatch(line)) yield return $"{file}:{i + 1}: a shell command line in one string";
            foreach (Match m in ShellDashC.Matches(line))
            {
                var script = m.Groups["script"].Value.Trim();
                if (script.StartsWith("$\"", StringComparison.Ordinal) || script.StartsWith("$@\"", StringComparison.Ordinal) || script.Contains(" + "))
                {
                    yield return $"{file}:{i + 1}: the shell script is built from values: {script}";
                    continue;
                }
                if (script.StartsWith('"')) continue; // constant text
                // A variable: its definition in the same file must not interpolate anything.
                var definition = new Regex($@"\b{Regex.Escape(script)}\s*=\s*(?<value>.+)");
                var assigned = lines.Select(l => definition.Match(l)).Where(d => d.Success).Select(d => d.Groups["value"].Value).ToList();
                if (assigned.Count == 0) yield return $"{file}:{i + 1}: the shell script '{script}' is defined elsewhere";
                else if (assigned.Any(v => v.Contains("$\"", StringComparison.Ordinal) || v.Contains("$@\"", StringComparison.Ordinal)))
                    yield return $"{file}:{i + 1}: the shell script '{script}' is an interpolated string";
            }
        }
    }

    [Fact]
    public void No_process_or_container_command_in_src_runs_a_shell_with_interpolated_input()
    {
        var src = Path.Combine(RepoPaths.Root, "src");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToList();
        Assert.True(files.Count > 50, $"only {files.Count} source files under {src}");
        var offences = files.SelectMany(f => Offences(Path.GetRelativePath(RepoPaths.Root, f), File.ReadAllText(f))).ToList();
        Assert.True(offences.Count == 0, "shell with interpolated input:\n" + string.Join("\n", offences));
        // The one shell Ds01 does run (the account set-up in a container) was seen and passed as constant text.
        Assert.Contains(files, f => ShellDashC.IsMatch(File.ReadAllText(f)));
    }

    [Theory]
    [InlineData("var psi = new ProcessStartInfo(\"docker\") { UseShellExecute = true };")]
    [InlineData("Process.Start(\"/bin/sh\", new[] { \"-c\", $\"rm -rf {path}\" });")]
    [InlineData("Cmd = [\"/bin/sh\", \"-c\", $\"chown {uid} /workspace\"],")]
    [InlineData("return [\"bash\", \"-c\", \"useradd \" + name];")]
    [InlineData("var s = $\"echo {name}\";\nreturn [\"sh\", \"-c\", s];")]
    [InlineData("Process.Start(\"bash -c 'ls'\");")]
    public void The_scan_catches_a_shell_fed_with_values(string source) => Assert.NotEmpty(Offences("x.cs", source));

    [Theory]
    [InlineData("return [\"/bin/sh\", \"-c\", \"exec sleep 600\"];")]
    [InlineData("var script = string.Join(\"; \", Body);\nreturn [\"/bin/sh\", \"-c\", script, \"sh\", N(uid)];")]
    [InlineData("var psi = new ProcessStartInfo(\"docker\") { UseShellExecute = false };")]
    public void The_scan_passes_an_argv_or_a_constant_script(string source) => Assert.Empty(Offences("x.cs", source));
}

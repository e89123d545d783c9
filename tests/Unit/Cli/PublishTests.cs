using System.Diagnostics;
using Xunit;

namespace Ds01.Tests.Unit.Cli;

/// <summary>README's install step (dotnet publish src/Ds01.Cli) gives the same help as the build output, and no build tools.</summary>
public class PublishTests
{
    [Fact]
    public void The_published_ds01_serves_the_cmdlet_help_and_ships_no_HelpGen()
    {
        var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        var dir = Path.Combine(Path.GetTempPath(), "ds01-publish-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var publish = Run("dotnet", "publish", Path.Combine(RepoPaths.Root, "src", "Ds01.Cli"), "-c", config, "--no-build", "-o", dir, "--nologo", "-v", "q");
            Assert.True(publish.Code == 0, publish.Out);

            Assert.True(File.Exists(Path.Combine(dir, "en-US", "Ds01.PowerShell.dll-Help.xml")), "MAML help missing from the publish folder");
            Assert.Empty(Directory.GetFiles(dir, "HelpGen*"));

            var help = Run("dotnet", Path.Combine(dir, "ds01.dll"), "-c", "Get-Help New-Ds01Container -Full");
            Assert.Equal(0, help.Code);
            Assert.Contains("SYNOPSIS", help.Out);
            Assert.Contains("ds01-<uid>/<project>:latest", help.Out);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (DirectoryNotFoundException) { }
        }
    }

    private static (int Code, string Out) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); Assert.Fail($"{file} did not exit"); }
        return (p.ExitCode, output + err.Result);
    }
}

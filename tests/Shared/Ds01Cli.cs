using System.Diagnostics;
using Xunit;

namespace Ds01.Tests;

/// <summary>
/// Runs the built ds01 executable as a separate process, as a user's shell would (stdin redirected, no terminal),
/// optionally as another OS account through setpriv, so identity comes from the kernel, not from the test.
/// </summary>
public static class Ds01Cli
{
    public sealed record Result(int ExitCode, string Out, string Err);

    public static string Dll
    {
        get
        {
            var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
            var built = Path.Combine(RepoPaths.Root, "src", "Ds01.Cli", "bin", config, "net10.0", "ds01.dll");
            return File.Exists(built) ? built : Path.Combine(AppContext.BaseDirectory, "ds01.dll");
        }
    }

    public static Result Run(params string[] args) => RunWith(null, null, args);

    public static Process Start(IDictionary<string, string?>? env, (int Uid, int Gid)? asUser, params string[] args)
    {
        ProcessStartInfo start;
        if (asUser is { } u)
        {
            start = new ProcessStartInfo("setpriv");
            foreach (var a in new[] { $"--reuid={u.Uid}", $"--regid={u.Gid}", "--clear-groups", "dotnet" }) start.ArgumentList.Add(a);
        }
        else start = new ProcessStartInfo("dotnet");
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.ArgumentList.Add(Dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["NO_COLOR"] = "1";
        if (asUser is not null) start.Environment["HOME"] = "/tmp";
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        var process = Process.Start(start)!;
        process.StandardInput.Close();
        return process;
    }

    public static Result RunWith(IDictionary<string, string?>? env, (int Uid, int Gid)? asUser, params string[] args)
    {
        using var process = Start(env, asUser, args);
        return Wait(process, args);
    }

    public static Result Wait(Process process, string[] args)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("ds01 did not exit: " + string.Join(' ', args));
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}

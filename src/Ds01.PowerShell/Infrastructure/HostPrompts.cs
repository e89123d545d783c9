using System.Management.Automation.Host;

namespace Ds01.PowerShell;

/// <summary>
/// Whether a person can answer the host's prompts. pwsh's console host can when stdin is a terminal and pwsh was
/// not started with -NonInteractive; a host without a UI (a bare runspace) cannot; any other host (ds01, a test
/// host) is asked, and one that refuses to prompt throws, which the caller turns into an error record.
/// </summary>
public static class HostPrompts
{
    public static bool CanPrompt(PSHost? host)
    {
        if (host?.UI is null || host.Name == "Default Host") return false;
        if (host.Name == "ConsoleHost") return !Console.IsInputRedirected && !StartedNonInteractive();
        // A host that knows (ds01's: stdin is a terminal) says so in PrivateData.CanPrompt.
        if (host.PrivateData?.Properties["CanPrompt"]?.Value is bool known) return known;
        return true;
    }

    /// <summary>pwsh -NonInteractive, or any abbreviation of it that pwsh accepts (-noni, -nonint, ...).</summary>
    public static bool StartedNonInteractive() =>
        Environment.GetCommandLineArgs().Skip(1).Any(a =>
        {
            var word = a.TrimStart('-', '/').ToLowerInvariant();
            return a.StartsWith('-') && word.Length >= 4 && "noninteractive".StartsWith(word, StringComparison.Ordinal);
        });

    /// <summary>
    /// Exceptions a host raises when it cannot ask (non-interactive pwsh, ds01 without a terminal, a closed stdin).
    /// NotImplementedException is how PowerShell's default host refuses a prompt; Ds01 itself has no stubs behind it.
    /// </summary>
    public static bool IsRefusal(Exception e) =>
        e is HostException or PromptingException or NotImplementedException or NotSupportedException
            or System.Management.Automation.PSInvalidOperationException or InvalidOperationException or IOException;
}

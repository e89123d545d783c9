using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;

namespace Ds01.PowerShell;

/// <summary>Tab completion of -Name from the caller's (or -User's) containers; silent when Docker is unreachable.</summary>
public sealed class ContainerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        List<string> names;
        try
        {
            var session = Ds01Session.FromEnvironment();
            var owner = session.Access.Target(fakeBoundParameters["User"] as string);
            using var engine = new DockerEngine();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            names = new ContainerService(session, engine).ListAsync(owner, cts.Token).GetAwaiter().GetResult()
                .Select(c => c.Name).Distinct().OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToList();
        }
        catch (Exception)
        {
            // Completion must never throw at the user's prompt.
            yield break;
        }
        foreach (var n in names.Where(n => pattern.IsMatch(n)))
            yield return new CompletionResult(n.Contains(' ') ? $"'{n}'" : n, n, CompletionResultType.ParameterValue, n);
    }
}

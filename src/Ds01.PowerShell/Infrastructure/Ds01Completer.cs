using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ds01.Core;
using Ds01.Core.Completion;
using Ds01.Core.Docker;
using Ds01.Core.Identity;

namespace Ds01.PowerShell;

/// <summary>
/// Base of Ds01's argument completers: the candidates come from Core's <see cref="CompletionSource"/>, within a
/// few seconds, and completion is silent (offers nothing) when Docker or the config cannot be read: it must never
/// throw at the user's prompt.
/// </summary>
public abstract class Ds01Completer : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> values;
        try
        {
            var session = Ds01Session.FromEnvironment();
            using var engine = new DockerEngine();
            if (engine.ViaService) session.UseService();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            values = Candidates(new CompletionSource(session, engine), session, commandName, wordToComplete ?? "", fakeBoundParameters, cts.Token);
        }
        catch (Exception)
        {
            return [];
        }
        return values.Select(v => new CompletionResult(v.Contains(' ') ? $"'{v}'" : v, v, CompletionResultType.ParameterValue, v)).ToList();
    }

    protected abstract IReadOnlyList<string> Candidates(CompletionSource source, Ds01Session session, string commandName, string word,
        IDictionary boundParameters, CancellationToken ct);

    /// <summary>The account whose things to offer: -User when it is already typed (admins), else the caller.</summary>
    protected static UserIdentity Owner(Ds01Session session, IDictionary boundParameters) =>
        session.Access.Target(boundParameters["User"] as string);

    protected static T Await<T>(Task<T> task) => task.GetAwaiter().GetResult();
}

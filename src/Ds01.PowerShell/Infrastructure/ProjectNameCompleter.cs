using System.Collections;
using Ds01.Core;
using Ds01.Core.Completion;

namespace Ds01.PowerShell;

/// <summary>-Project: the caller's projects (with an image or a saved Dockerfile).</summary>
public sealed class ProjectNameCompleter : Ds01Completer
{
    protected override IReadOnlyList<string> Candidates(CompletionSource source, Ds01Session session, string commandName, string word,
        IDictionary boundParameters, CancellationToken ct) =>
        Await(source.ProjectsAsync(Owner(session, boundParameters), word, ct));
}

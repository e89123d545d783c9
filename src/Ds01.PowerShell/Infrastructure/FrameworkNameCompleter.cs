using System.Collections;
using Ds01.Core;
using Ds01.Core.Completion;

namespace Ds01.PowerShell;

/// <summary>-Framework: the frameworks of the AIME catalog.</summary>
public sealed class FrameworkNameCompleter : Ds01Completer
{
    protected override IReadOnlyList<string> Candidates(CompletionSource source, Ds01Session session, string commandName, string word,
        IDictionary boundParameters, CancellationToken ct) =>
        source.Frameworks(word);
}

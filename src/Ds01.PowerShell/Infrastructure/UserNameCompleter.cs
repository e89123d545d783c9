using System.Collections;
using Ds01.Core;
using Ds01.Core.Completion;

namespace Ds01.PowerShell;

/// <summary>-User: for admins the accounts they may act for; for everyone else only themselves.</summary>
public sealed class UserNameCompleter : Ds01Completer
{
    protected override IReadOnlyList<string> Candidates(CompletionSource source, Ds01Session session, string commandName, string word,
        IDictionary boundParameters, CancellationToken ct) =>
        Await(source.UsersAsync(word, ct));
}

using System.Collections;
using Ds01.Core;
using Ds01.Core.Completion;

namespace Ds01.PowerShell;

/// <summary>-Image: the caller's own images and the shared base images.</summary>
public sealed class ImageNameCompleter : Ds01Completer
{
    protected override IReadOnlyList<string> Candidates(CompletionSource source, Ds01Session session, string commandName, string word,
        IDictionary boundParameters, CancellationToken ct) =>
        Await(source.ImagesAsync(Owner(session, boundParameters), word, ct));
}

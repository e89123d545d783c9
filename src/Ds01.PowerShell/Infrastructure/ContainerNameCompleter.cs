using System.Collections;
using System.Management.Automation;
using Ds01.Core;
using Ds01.Core.Completion;

namespace Ds01.PowerShell;

/// <summary>-Name of containers: the caller's (or -User's), in the states the command acts on (Start offers stopped ones, Stop running ones).</summary>
public sealed class ContainerNameCompleter : Ds01Completer
{
    protected override IReadOnlyList<string> Candidates(CompletionSource source, Ds01Session session, string commandName, string word,
        IDictionary boundParameters, CancellationToken ct)
    {
        var start = boundParameters["Start"] is SwitchParameter { IsPresent: true } or true;
        return Await(source.ContainersAsync(Owner(session, boundParameters), CompletionSource.ContainerStatesFor(commandName, start), word, ct));
    }
}

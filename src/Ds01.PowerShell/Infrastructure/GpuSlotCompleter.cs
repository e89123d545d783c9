using System.Collections;
using Ds01.Core;
using Ds01.Core.Completion;

namespace Ds01.PowerShell;

/// <summary>-Gpu: the slot ids of this machine, as Get-Ds01Gpu shows them.</summary>
public sealed class GpuSlotCompleter : Ds01Completer
{
    protected override IReadOnlyList<string> Candidates(CompletionSource source, Ds01Session session, string commandName, string word,
        IDictionary boundParameters, CancellationToken ct) =>
        source.GpuSlots(word);
}

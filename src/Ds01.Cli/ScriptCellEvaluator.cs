using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Ds01.Cli;

/// <summary>
/// Evaluates a view's ScriptBlock column with <c>$_</c> bound to the row object, in the
/// runspace that produced the object so module functions and variables are in scope.
/// </summary>
public sealed class ScriptCellEvaluator(Runspace runspace)
{
    private readonly ConcurrentDictionary<string, ScriptBlock> _compiled = new();

    public object? Evaluate(string script, PSObject row)
    {
        var block = _compiled.GetOrAdd(script, ScriptBlock.Create);
        var previous = Runspace.DefaultRunspace;
        Runspace.DefaultRunspace = runspace;
        try
        {
            var results = block.InvokeWithContext(null, [new PSVariable("_", row)]);
            return results.Count switch
            {
                0 => null,
                1 => results[0],
                _ => results.Select(r => r?.BaseObject).ToArray(),
            };
        }
        catch (RuntimeException)
        {
            // pwsh leaves a cell blank when its script fails; one bad cell should not lose the table.
            return null;
        }
        finally
        {
            Runspace.DefaultRunspace = previous;
        }
    }
}

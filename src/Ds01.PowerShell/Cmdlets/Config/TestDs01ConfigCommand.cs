using System.Management.Automation;
using Ds01.Core.Configuration;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>Checks every config file in a directory; each problem is an error record naming file, line and column.</summary>
[Cmdlet(VerbsDiagnostic.Test, "Ds01Config")]
[OutputType(typeof(bool))]
public sealed class TestDs01ConfigCommand : Ds01Cmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void EndProcessing()
    {
        var dir = Path is null ? Session.Paths.ConfigDir : GetUnresolvedProviderPathFromPSPath(Path);
        var problems = ConfigStore.Validate(dir);
        foreach (var p in problems)
        {
            var record = new ErrorRecord(new InvalidDataException(p.ToString()), p.Code, ErrorCategory.InvalidData, p.File)
            {
                ErrorDetails = new ErrorDetails(p.ToString())
                {
                    RecommendedAction = p.RecommendedAction ?? $"Edit {p.File} at line {p.Line}, column {p.Column}.",
                },
            };
            WriteError(record);
        }
        WriteObject(problems.Count == 0);
    }
}

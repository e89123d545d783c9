using System.Management.Automation;
using Ds01.Core.Configuration;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>check-limits: the effective limits of the caller, or (admins) of another user.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01ResourceLimit")]
[OutputType(typeof(Ds01ResourceLimit))]
public sealed class GetDs01ResourceLimitCommand : Ds01Cmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string[]? User { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in User ?? new string?[] { null })
            Try(() => WriteObject(Session.LimitsFor(Session.Access.Target(name))));
    }
}

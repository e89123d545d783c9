using System.Management.Automation;
using Ds01.Core.Containers;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>container-exit: explains how to leave a container's shell without stopping it (the seed's educational command); changes nothing.</summary>
[Cmdlet(VerbsCommon.Exit, "Ds01Container")]
[OutputType(typeof(string))]
public sealed class ExitDs01ContainerCommand : Ds01Cmdlet
{
    protected override void EndProcessing()
    {
        foreach (var line in ExitGuidance.Lines) WriteObject(line);
        base.EndProcessing();
    }
}

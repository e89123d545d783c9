using System.Management.Automation;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;
using Ds01.Core.Docker;
using Ds01.Core.Identity;

namespace Ds01.PowerShell;

/// <summary>
/// Shared plumbing of the container cmdlets: one Docker connection per invocation (disposed with the cmdlet), the
/// services over it, owner lookup.
/// </summary>
public abstract class Ds01ContainerCmdlet : Ds01Cmdlet
{
    private DockerEngine? _engine;
    private ContainerService? _service;
    private GpuService? _gpu;

    protected DockerEngine Engine => _engine ??= new DockerEngine();

    /// <summary>Chooses the endpoint on the pipeline thread, so -Verbose can say whether this goes through ds01d.</summary>
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        try
        {
            WriteVerbose(Engine.EndpointNote);
            if (Engine.ViaService) Session.UseService();
        }
        catch (Ds01Exception e) { ThrowTerminatingError(ToErrorRecord(e)); }
    }

    /// <summary>The placement: GPU inventory and the allocation lock (read only when a command needs them).</summary>
    protected GpuService Placement => _gpu ??= new GpuService(Session, Engine);

    protected ContainerService Containers => _service ??= new ContainerService(Session, Engine, Placement);

    protected ContainerCreation Creation => new(Session, Engine, Placement);

    /// <summary>The account to act for: the caller, or with -User (admins only) someone else.</summary>
    protected UserIdentity Owner(string? user) => Session.Access.Target(user);

    /// <summary>ShouldProcess, except that -Force skips the prompt (but never -WhatIf).</summary>
    protected bool ShouldAct(string target, string action, bool force)
    {
        if (force && !MyInvocation.BoundParameters.ContainsKey("WhatIf") && !MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            WriteVerbose($"Performing the operation \"{action}\" on target \"{target}\" (-Force).");
            return true;
        }
        return ShouldProcess(target, action);
    }

    /// <summary>Like Write-Host: shown to a person even with the default InformationPreference.</summary>
    protected void Tell(string message) =>
        WriteInformation(new HostInformationMessage { Message = message }, new[] { "PSHOST" });

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _engine?.Dispose();
            _engine = null;
        }
        base.Dispose(disposing);
    }
}

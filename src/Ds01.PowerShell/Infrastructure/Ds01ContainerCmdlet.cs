using System.Management.Automation;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Identity;

namespace Ds01.PowerShell;

/// <summary>Shared plumbing of the container cmdlets: one Docker connection per invocation, the service, owner lookup.</summary>
public abstract class Ds01ContainerCmdlet : Ds01Cmdlet
{
    private DockerEngine? _engine;
    private ContainerService? _service;

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
        catch (Ds01Exception e) { Terminate(e); }
    }

    protected ContainerService Containers => _service ??= new ContainerService(Session, Engine, GpuPlacementFactory.Create(Session, Engine));

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

    protected void FlushWarnings()
    {
        if (_service is null) return;
        foreach (var w in _service.Warnings) WriteWarning(w);
        _service.Warnings.Clear();
    }

    /// <summary>Like Write-Host: shown to a person even with the default InformationPreference.</summary>
    protected void Tell(string message) =>
        WriteInformation(new HostInformationMessage { Message = message }, new[] { "PSHOST" });

    protected override void EndProcessing()
    {
        FlushWarnings();
        base.EndProcessing();
    }

    protected void DisposeEngine()
    {
        _engine?.Dispose();
        _engine = null;
    }
}

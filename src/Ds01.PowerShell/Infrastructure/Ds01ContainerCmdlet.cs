using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using Ds01.Core;
using Ds01.Core.Guidance;
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

    private readonly List<IDisposable> _nodeEngines = new();

    /// <summary>Create and deploy where the backend puts the container (this server, or a Slurm node's endpoint).</summary>
    protected ContainerDeployment Deployment => new(Creation, Containers, Session.Config.Cluster.IsSlurm
        ? new Ds01.Core.Cluster.ClusterContainerCreation(Session, host => host == Engine.Endpoint ? Engine : NodeEngine(host))
        : null, host => host == Engine.Endpoint ? Containers : NodeContainers(host));

    private DockerEngine NodeEngine(string host)
    {
        var engine = new DockerEngine(host);
        // Piped containers are acted on in parallel (Ds01ContainerBatchCmdlet), each maybe on another node.
        lock (_nodeEngines) _nodeEngines.Add(engine);
        return engine;
    }

    private readonly Dictionary<string, ContainerService> _nodeServices = new(StringComparer.Ordinal);

    private ContainerService NodeContainers(string host)
    {
        lock (_nodeServices)
        {
            if (!_nodeServices.TryGetValue(host, out var s)) _nodeServices[host] = s = new ContainerService(Session, NodeEngine(host));
            return s;
        }
    }

    /// <summary>
    /// The container service over the Docker endpoint that holds <paramref name="name"/>: this server's, or on a
    /// cluster the node's (Ds01.Core's ClusterEndpoints; <paramref name="node"/> from a piped container picks it).
    /// </summary>
    protected Task<ContainerService> ContainersForAsync(string name, UserIdentity owner, string? node, CancellationToken ct) =>
        new Ds01.Core.Cluster.ClusterEndpoints(Session, Engine.Endpoint, Containers, NodeContainers).ForAsync(name, owner, node, ct);

    /// <summary>The account to act for: the caller, or with -User (admins only) someone else.</summary>
    protected UserIdentity Owner(string? user) => Session.Access.Target(user);

    /// <summary>
    /// The name picker for a left-out -Name: the caller's (or -User's) containers in the states this command acts on
    /// (GuidedFlows.PickStates), offered through the host's PromptForChoice. With nobody at a terminal it is a
    /// terminating NameRequired error, so a script fails at once instead of waiting.
    /// </summary>
    protected string ChooseContainer(string? user, bool startFirst = false)
    {
        var command = MyInvocation.MyCommand.Name;
        var needed = NeedsPerson(command, "NameRequired", $"{command} needs -Name, and there is no terminal to choose a container at.",
            "Pass -Name <container> (Get-Ds01Container lists yours).");
        if (!HostPrompts.CanPrompt(Host)) ThrowTerminatingError(needed);
        var states = GuidedFlows.PickStates(command, startFirst);
        List<Ds01Container> offered = [];
        try
        {
            offered = Await(Containers.ListAsync(Owner(user), Cancellation))
                .Where(c => states is null || states.Contains(c.State)).OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        }
        catch (Ds01Exception e) { ThrowTerminatingError(ToErrorRecord(e)); }
        if (offered.Count == 0)
            ThrowTerminatingError(new ErrorRecord(new ItemNotFoundException($"You have no container to choose for {command}."), "NoContainerToChoose",
                ErrorCategory.ObjectNotFound, command)
            {
                ErrorDetails = new ErrorDetails($"You have no container {(states is null ? "" : $"that is {string.Join(" or ", states.Select(x => x.ToString().ToLowerInvariant()))} ")}to choose for {command}.")
                { RecommendedAction = "Get-Ds01Container lists your containers; New-Ds01Container makes one." },
            });
        var choices = new Collection<ChoiceDescription>(offered.Select(c => new ChoiceDescription(c.Name,
            $"{c.State.ToString().ToLowerInvariant()}, image {c.Image}{(c.Gpu.Length > 0 ? $", GPU {c.Gpu}" : "")}")).ToList());
        int chosen;
        try { chosen = Host.UI.PromptForChoice(GuidedFlows.PickCaption(states), "Type the name of the container:", choices, 0); }
        catch (Exception e) when (HostPrompts.IsRefusal(e)) { chosen = -1; }
        if (chosen < 0 || chosen >= offered.Count) ThrowTerminatingError(needed);
        return offered[chosen].Name;
    }

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
            foreach (var e in _nodeEngines) e.Dispose();
            _nodeEngines.Clear();
        }
        base.Dispose(disposing);
    }
}

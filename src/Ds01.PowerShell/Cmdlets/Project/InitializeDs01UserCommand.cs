using System.Management.Automation;
using Ds01.Core.Containers;
using Ds01.Core.Users;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>
/// user-setup: the home folders, an SSH key (ssh-keygen, only when ~/.ssh/id_ed25519 is missing), a VS Code
/// Remote-SSH snippet and, with -StarterContainer, a running container; then the next steps. Only missing steps are
/// taken, each behind ShouldProcess: a second run changes nothing and says so.
/// </summary>
[Cmdlet(VerbsData.Initialize, "Ds01User", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Ds01SetupResult))]
public sealed class InitializeDs01UserCommand : Ds01ContainerCmdlet
{
    /// <summary>Admins: the account to set up (its files are written without following its links and given to it).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>The server's name as users reach it, for the SSH command and the VS Code snippet; default this machine's name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? HostName { get; set; }

    /// <summary>Also deploy (create and start) a container of this name, unless the user has one by that name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StarterContainer { get; set; }

    /// <summary>The starter container's image; default the project image ds01-{uid}/{name}:latest.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    public string? Image { get; set; }

    [Parameter]
    [ValidateRange(0, 64)]
    public int GpuCount { get; set; } = 1;

    /// <summary>Explain each step first and ask for what is missing.</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Guided) RunGuided();
    }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var setup = new UserSetup(Session);
        var plan = setup.Plan(owner, HostName);
        var changed = new List<string>();
        if (plan.MissingDirs.Count > 0 && ShouldProcess(string.Join(", ", plan.MissingDirs), "Create home folders"))
        {
            setup.CreateDirectories(plan);
            changed.Add("folders");
        }
        if (plan.SshKeyMissing && ShouldProcess(plan.SshKeyPath, "Create SSH key with ssh-keygen"))
        {
            setup.CreateSshKey(plan);
            changed.Add("SSH key");
        }
        if (plan.VsCodeConfigMissing && ShouldProcess(plan.VsCodeConfigPath, "Write VS Code Remote-SSH snippet"))
        {
            setup.WriteVsCodeConfig(plan);
            changed.Add("VS Code config");
        }
        var container = "";
        var jupyter = "";
        if (StarterContainer is not null)
        {
            var existing = Await(Containers.ListAsync(owner, Cancellation)).FirstOrDefault(c => c.Name == StarterContainer);
            Ds01Container? c = existing;
            if (existing is null && ShouldProcess($"{StarterContainer} (owner {owner.Name})", "Deploy starter container"))
            {
                c = AwaitWithProgress(Deployment.DeployAsync(new ContainerCreateRequest
                {
                    Name = StarterContainer, Image = Image, GpuCount = GpuCount, Interface = "orchestration",
                }, owner, Cancellation));
                ShowFeedback();
                changed.Add("container");
            }
            if (c is not null)
            {
                container = c.Name;
                var ip = Await(Engine.InspectContainerAsync(c.Tag, Cancellation))?.NetworkSettings?.Networks?.Values
                    .Select(n => n.IPAddress).FirstOrDefault(a => !string.IsNullOrEmpty(a));
                // On a network the container has its own address; with host networking (or none) the server's own port.
                jupyter = $"http://{(string.IsNullOrEmpty(ip) ? "localhost" : ip)}:8888/lab";
            }
        }
        setup.Record(plan, changed);
        if (plan.NothingToDo && !changed.Contains("container"))
            Tell($"{owner.Name} is set up already (folders, SSH key, VS Code config{(container.Length > 0 ? ", container" : "")}); nothing was changed.");
        else if (changed.Count > 0) Tell($"Set up for {owner.Name}: {string.Join(", ", changed)}.");
        if (changed.Contains("VS Code config") || (plan.VsCodeConfigMissing && changed.Count == 0))
            Tell(plan.VsCodeConfigText.TrimEnd());
        foreach (var line in UserSetup.NextSteps(plan, container, jupyter)) Tell(line);
        WriteObject(setup.Read(plan, changed, container, jupyter));
    });
}

using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Ds01.Core.Naming;

namespace Ds01.Core.Projects;

/// <summary>The steps project-init takes for a project; each is null when it is already done.</summary>
public sealed record ProjectPlan(string Project, UserIdentity Owner, string Workspace, bool WorkspaceMissing, string DockerfilePath,
    string DockerfileText, bool DockerfileMissing, string Image, bool ImageMissing);

/// <summary>
/// project-init and project-launch: a workspace folder under the workspace root, a Dockerfile from the generator
/// (New-Ds01Dockerfile's), the project image. Plan first (reads only, so bad input and -WhatIf change nothing),
/// then each missing step on its own, so a second run finds nothing to do and changes nothing.
/// </summary>
public sealed class ProjectSetup
{
    private readonly Ds01Session _session;
    private readonly IContainerEngine _docker;
    private readonly ImageService _images;

    public ProjectSetup(Ds01Session session, IContainerEngine docker)
    {
        _session = session;
        _docker = docker;
        _images = new ImageService(session, docker);
    }

    /// <param name="generate">How to generate the Dockerfile when the project has none; null: the project must have one.</param>
    public async Task<ProjectPlan> PlanAsync(string project, UserIdentity owner, DockerfileRequest? generate, CancellationToken ct)
    {
        ContainerNaming.ValidateProject(project);
        var mounts = new MountPolicy(_session.Config.ResourceLimits);
        var workspace = mounts.DefaultWorkspace(owner, project);
        mounts.Check(workspace, owner, "workspace");
        var path = _images.DockerfilePath(owner, project);
        var stored = _images.ReadStored(owner, path);
        var dockerfileMissing = stored is null;
        string text;
        if (stored is not null) text = stored;
        else if (generate is not null) text = _images.GenerateDockerfile(generate, owner);
        else
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "ProjectNotInitialized",
                $"Project '{project}' has no Dockerfile ({path}) to build its image from.", project,
                $"Set it up first: Initialize-Ds01Project {project} -Framework pytorch (project-init {project}).");
        var image = ContainerNaming.ImageName(owner.Uid, project);
        var imageMissing = await _docker.InspectImageAsync(image, ct).ConfigureAwait(false) is null;
        return new ProjectPlan(project, owner, workspace, !Directory.Exists(workspace), path, text, dockerfileMissing, image, imageMissing);
    }

    public void CreateWorkspace(ProjectPlan plan) =>
        new ContainerCreation(_session, _docker, new GpuService(_session, _docker)).EnsureWorkspace(plan.Workspace, plan.Owner);

    public void WriteDockerfile(ProjectPlan plan) => _images.SaveDockerfile(plan.DockerfilePath, plan.DockerfileText, plan.Owner);

    public Task<Ds01Image> BuildAsync(ProjectPlan plan, bool noCache, IProgress<BuildMessage> progress, CancellationToken ct) =>
        _images.BuildAsync(plan.Project, plan.DockerfileText, plan.Owner, noCache, force: false, progress, ct);

    /// <summary>The project as it is now, with what this command did.</summary>
    public async Task<Ds01Project> ReadAsync(ProjectPlan plan, IReadOnlyList<string> changed, CancellationToken ct) => new()
    {
        Name = plan.Project,
        User = plan.Owner.Name,
        Workspace = plan.Workspace,
        Dockerfile = plan.DockerfilePath,
        Image = plan.Image,
        ImageExists = await _docker.InspectImageAsync(plan.Image, ct).ConfigureAwait(false) is not null,
        Changed = string.Join(", ", changed),
    };

    public void Record(ProjectPlan plan, IReadOnlyList<string> changed)
    {
        if (changed.Count > 0)
            _session.Recorder.Record("project.init", plan.Owner, new Dictionary<string, object?> { ["project"] = plan.Project, ["changed"] = string.Join(",", changed) });
    }
}

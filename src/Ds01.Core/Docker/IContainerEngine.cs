using Docker.DotNet.Models;

namespace Ds01.Core.Docker;

/// <summary>The container calls Ds01 makes. Docker.DotNet's models are the vocabulary; every failure arrives as a Ds01Exception.</summary>
public interface IContainerApi
{
    Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, bool>? labelFilters, CancellationToken ct);
    /// <summary>Each container's writable-layer size in bytes (docker ps --size), by container id.</summary>
    Task<IReadOnlyDictionary<string, long>> ContainerSizesAsync(CancellationToken ct);
    Task<ContainerInspectResponse?> InspectContainerAsync(string nameOrId, CancellationToken ct);
    Task<string> CreateContainerAsync(CreateContainerParameters parameters, CancellationToken ct);
    Task StartContainerAsync(string id, CancellationToken ct);
    Task StopContainerAsync(string id, int timeoutSeconds, CancellationToken ct);
    Task KillContainerAsync(string id, CancellationToken ct);
    Task PauseContainerAsync(string id, CancellationToken ct);
    Task UnpauseContainerAsync(string id, CancellationToken ct);
    Task RemoveContainerAsync(string id, bool force, CancellationToken ct);
    Task<ContainerStatsResponse?> GetStatsAsync(string id, TimeSpan timeout, CancellationToken ct);
    Task<ExecResult> ExecAsync(string id, IList<string> command, string? user, CancellationToken ct);
    /// <summary>Commits a container; the parameters' config fields (Cmd, Labels, ...) override the container's.</summary>
    Task<string> CommitContainerAsync(CommitContainerChangesParameters parameters, CancellationToken ct);
    /// <summary>Blocks until the container exits and returns its exit code.</summary>
    Task<long> WaitContainerAsync(string id, CancellationToken ct);
    /// <summary>The container's stdout and stderr so far (a container without a TTY).</summary>
    Task<(string StdOut, string StdErr)> GetContainerLogsAsync(string id, CancellationToken ct);
}

/// <summary>The image calls Ds01 makes.</summary>
public interface IImageApi
{
    Task<ImageInspectResponse?> InspectImageAsync(string reference, CancellationToken ct);
    Task<IList<ImagesListResponse>> ListImagesAsync(CancellationToken ct);
    /// <summary>docker pull; the registry's own error (unreachable, unknown image) arrives as a Ds01Exception ImagePullFailed.</summary>
    Task PullImageAsync(string reference, IProgress<JSONMessage> progress, CancellationToken ct);
    Task RemoveImageAsync(string reference, bool force, CancellationToken ct);
    Task BuildImageAsync(Stream tarContext, ImageBuildParameters parameters, IProgress<JSONMessage> progress, CancellationToken ct);
}

/// <summary>The daemon-wide facts Ds01 reads (CPU count, cgroup driver).</summary>
public interface ISystemApi
{
    Task<SystemInfoResponse> GetSystemInfoAsync(CancellationToken ct);
}

/// <summary>
/// All of Docker that Ds01 uses, split by resource so code that needs one part (the GPU holdings reader needs only
/// the container list) says so, and an in-memory engine (tests/Shared/InMemoryEngine.cs) can stand in for unit tests.
/// </summary>
public interface IContainerEngine : IContainerApi, IImageApi, ISystemApi
{
}

public sealed record ExecResult(long ExitCode, string StdOut, string StdErr);

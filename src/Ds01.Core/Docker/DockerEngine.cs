using Ds01.Core.Naming;
using System.Net;
using System.Net.Sockets;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Ds01.Core.Docker;

/// <summary>
/// The one place that talks to Docker.DotNet. The endpoint is resolved as the docker CLI does (DOCKER_HOST,
/// then the default socket); the API version is the daemon's own, so an older engine (20.10, API 1.41) works.
/// </summary>
public sealed class DockerEngine : IContainerEngine, IDisposable
{
    private readonly DockerClient _client;
    private readonly string _endpoint;

    public const string TimeoutVariable = "DS01_DOCKER_TIMEOUT";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <param name="timeout">
    /// How long one request (connect included) may take; null means $DS01_DOCKER_TIMEOUT seconds, else 30 s.
    /// Docker.DotNet's own default is 10 minutes, so a hung or stopped daemon hung every command. Waits that are
    /// meant to be long (stop, wait, builds, exec and log streams) are not bounded by it.
    /// </param>
    public DockerEngine(string? endpoint = null, TimeSpan? timeout = null)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            var resolved = DockerEndpointResolver.Resolve();
            endpoint = resolved.Uri;
            ViaService = resolved.ViaService;
            EndpointNote = resolved.Note;
        }
        else EndpointNote = $"Using Docker at {endpoint}.";
        _endpoint = endpoint!;
        Timeout = timeout ?? TimeoutFromEnvironment();
        try
        {
            var uri = new Uri(_endpoint);
            // Docker.DotNet answers other schemes with NotSupportedException at the first call; say so here.
            if (uri.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe"))
                throw new ArgumentException($"the scheme '{uri.Scheme}' is not one Docker speaks");
            _client = new DockerClientBuilder().WithEndpoint(uri).WithTimeout(Timeout).Build();
        }
        catch (Exception e) when (e is UriFormatException or DockerConfigurationException or ArgumentException or NotSupportedException)
        {
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "DockerEndpointInvalid",
                $"Cannot use the Docker endpoint '{_endpoint}': {e.Message}", _endpoint,
                "Set DOCKER_HOST to a unix:// or tcp:// address, or unset it to use /var/run/docker.sock.", e);
        }
    }

    public string Endpoint => _endpoint;

    public TimeSpan Timeout { get; }

    internal static TimeSpan TimeoutFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(TimeoutVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultTimeout;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) &&
            double.IsFinite(s) && s > 0 && s <= 3600)
            return TimeSpan.FromSeconds(s);
        throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "DockerTimeoutInvalid",
            $"${TimeoutVariable} is '{text}'; it must be a number of seconds greater than 0 and at most 3600.", TimeoutVariable,
            $"Unset ${TimeoutVariable} for the default of {DefaultTimeout.TotalSeconds:0} s, or set a valid number.");
    }

    // A refused port arrives as an AggregateException (one per address tried) or nested in HttpRequestException.
    private static bool IsTransport(Exception e) => e switch
    {
        HttpRequestException or SocketException or IOException or TimeoutException => true,
        AggregateException a => a.InnerExceptions.Any(IsTransport),
        _ => e.InnerException is { } inner && IsTransport(inner),
    };

    /// <summary>The words of a transport failure a user can act on.</summary>
    private static string TransportReason(Exception e)
    {
        var inner = e is AggregateException a ? a.Flatten().InnerExceptions.First() : e;
        var root = inner.GetBaseException();
        // A daemon that dies after reading the request (dockerd killed or restarted) closes the connection with no
        // answer; Docker.DotNet then fails parsing the empty status line ("Sequence contains no elements").
        return root is SocketException or IOException or TimeoutException or HttpRequestException
            ? root.Message
            : "the connection closed before Docker answered (dockerd stopped or restarted during the request)";
    }

    /// <summary>True when the endpoint is ds01d (which then enforces the rules and writes the event log).</summary>
    public bool ViaService { get; }

    /// <summary>Which endpoint was chosen and why, for -Verbose.</summary>
    public string EndpointNote { get; }

    public void Dispose() => _client.Dispose();

    /// <summary>Maps transport and API failures to errors a user can act on.</summary>
    private async Task<T> Call<T>(string what, object? target, Func<Task<T>> call, CancellationToken ct = default)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        // ds01d refused it: the service's body carries the Ds01 error this call would have raised locally.
        catch (DockerApiException e) when (ServiceError.TryParse(e.ResponseBody, e) is { } refused)
        {
            throw refused;
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "DockerObjectNotFound", $"{what}: {Clean(e)}", target, null, e);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // On create a conflict is a name taken meanwhile; elsewhere it is a state conflict (e.g. removing a running container).
            var exists = what.StartsWith("create ", StringComparison.Ordinal);
            throw new Ds01Exception(exists ? Ds01ErrorKind.AlreadyExists : Ds01ErrorKind.InvalidOperation,
                exists ? "ContainerExists" : "DockerConflict", $"{what}: {Clean(e)}", target, null, e);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.BadRequest)
        {
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "DockerBadRequest", $"{what}: {Clean(e)}", target, null, e);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Forbidden || e.StatusCode == HttpStatusCode.Unauthorized)
        {
            throw new Ds01Exception(Ds01ErrorKind.PermissionDenied, "DockerForbidden", $"{what}: {Clean(e)}", target,
                "The Docker engine (or an authorization plugin) refused this; ask an admin.", e);
        }
        catch (DockerApiException e)
        {
            throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "DockerApiError", $"{what}: {Clean(e)}", target, null, e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // Not our caller's cancellation: the request timeout fired.
            throw new Ds01Exception(Ds01ErrorKind.OperationTimeout, "DockerTimeout",
                $"The Docker engine at {_endpoint} did not answer '{what}' within {Timeout.TotalSeconds:0.#} s.", _endpoint,
                $"Check that dockerd is running and responsive (systemctl status docker); ${TimeoutVariable} sets the limit in seconds.", e);
        }
        catch (Exception e) when (IsTransport(e))
        {
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "DockerUnreachable",
                $"Cannot reach the Docker engine at {_endpoint}: {TransportReason(e)}", _endpoint,
                "Check that dockerd is running and that you may use its socket (DOCKER_HOST).", e);
        }
        catch (NotSupportedException e)
        {
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "DockerEndpointInvalid",
                $"Cannot use the Docker endpoint '{_endpoint}': {e.Message}", _endpoint,
                "Set DOCKER_HOST to a unix:// or tcp:// address, or unset it to use /var/run/docker.sock.", e);
        }
    }

    private Task Call(string what, object? target, Func<Task> call, CancellationToken ct = default) =>
        Call<bool>(what, target, async () => { await call().ConfigureAwait(false); return true; }, ct);

    private static string Clean(DockerApiException e)
    {
        var body = e.ResponseBody ?? e.Message;
        const string marker = "\"message\":\"";
        var i = body.IndexOf(marker, StringComparison.Ordinal);
        if (i >= 0)
        {
            var j = body.IndexOf('"', i + marker.Length);
            if (j > i) return body.Substring(i + marker.Length, j - i - marker.Length);
        }
        return body.Trim();
    }

    public Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, bool>? labelFilters, CancellationToken ct) =>
        Call("list containers", null, () => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = labelFilters is null ? null : new Dictionary<string, IDictionary<string, bool>> { ["label"] = labelFilters },
        }, ct), ct);

    public async Task<IReadOnlyDictionary<string, long>> ContainerSizesAsync(CancellationToken ct)
    {
        var all = await Call("list container sizes", null, () => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true, Size = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [Labels.Aime] = true } },
        }, ct), ct).ConfigureAwait(false);
        return all.ToDictionary(c => c.ID, c => c.SizeRw ?? 0, StringComparer.Ordinal);
    }

    public async Task<ContainerInspectResponse?> InspectContainerAsync(string nameOrId, CancellationToken ct)
    {
        try
        {
            return await Call($"inspect container {nameOrId}", nameOrId, () => _client.Containers.InspectContainerAsync(nameOrId, ct), ct).ConfigureAwait(false);
        }
        catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.NotFound)
        {
            return null;
        }
    }

    public async Task<string> CreateContainerAsync(CreateContainerParameters parameters, CancellationToken ct) =>
        (await Call($"create container {parameters.Name}", parameters.Name, () => _client.Containers.CreateContainerAsync(parameters, ct), ct).ConfigureAwait(false)).ID;

    public Task StartContainerAsync(string id, CancellationToken ct) =>
        Call($"start container {id}", id, () => _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct), ct);

    public Task StopContainerAsync(string id, int timeoutSeconds, CancellationToken ct) =>
        Call($"stop container {id}", id, () => _client.Containers.StopContainerAsync(id,
            new ContainerStopParameters { WaitBeforeKillSeconds = (uint)Math.Max(0, timeoutSeconds) }, ct), ct);

    public Task KillContainerAsync(string id, CancellationToken ct) =>
        Call($"kill container {id}", id, () => _client.Containers.KillContainerAsync(id, new ContainerKillParameters(), ct), ct);

    public Task PauseContainerAsync(string id, CancellationToken ct) =>
        Call($"pause container {id}", id, () => _client.Containers.PauseContainerAsync(id, ct), ct);

    public Task UnpauseContainerAsync(string id, CancellationToken ct) =>
        Call($"unpause container {id}", id, () => _client.Containers.UnpauseContainerAsync(id, ct), ct);

    public Task RemoveContainerAsync(string id, bool force, CancellationToken ct) =>
        Call($"remove container {id}", id, () => _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = force }, ct), ct);

    public async Task<ContainerStatsResponse?> GetStatsAsync(string id, TimeSpan timeout, CancellationToken ct)
    {
        // Stream=false with a deadline: stats on a container that is not running can otherwise hang (Docker.DotNet#187).
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        ContainerStatsResponse? last = null;
        try
        {
            await Call($"stats of container {id}", id, () => _client.Containers.GetContainerStatsAsync(id,
                new ContainerStatsParameters { Stream = false }, new Progress(r => last = r), cts.Token), cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new Ds01Exception(Ds01ErrorKind.OperationTimeout, "StatsTimeout",
                $"Docker did not return stats for {id} within {timeout.TotalSeconds:0} s.", id);
        }
        return last;
    }

    // Synchronous IProgress: Progress<T> would post to the thread pool and could run after we return.
    private sealed class Progress : IProgress<ContainerStatsResponse>
    {
        private readonly Action<ContainerStatsResponse> _report;
        public Progress(Action<ContainerStatsResponse> report) => _report = report;
        public void Report(ContainerStatsResponse value) => _report(value);
    }

    public async Task<ExecResult> ExecAsync(string id, IList<string> command, string? user, CancellationToken ct)
    {
        var created = await Call($"exec in container {id}", id, () => _client.Exec.CreateContainerExecAsync(id,
            new ContainerExecCreateParameters { Cmd = command, AttachStdout = true, AttachStderr = true, User = user ?? "" }, ct), ct).ConfigureAwait(false);
        var (stdout, stderr) = await Call($"exec in container {id}", id, async () =>
        {
            using var stream = await _client.Exec.StartContainerExecAsync(created.ID, new ContainerExecStartParameters(), ct).ConfigureAwait(false);
            return await stream.ReadOutputToEndAsync(ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        var inspect = await Call($"exec in container {id}", id, () => _client.Exec.InspectContainerExecAsync(created.ID, ct), ct).ConfigureAwait(false);
        return new ExecResult(inspect.ExitCode ?? -1, stdout, stderr);
    }

    public async Task<ImageInspectResponse?> InspectImageAsync(string reference, CancellationToken ct)
    {
        try
        {
            return await Call($"inspect image {reference}", reference, () => _client.Images.InspectImageAsync(reference, ct), ct).ConfigureAwait(false);
        }
        catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.NotFound)
        {
            return null;
        }
    }

    public Task<IList<ImagesListResponse>> ListImagesAsync(CancellationToken ct) =>
        Call("list images", null, () => _client.Images.ListImagesAsync(new ImagesListParameters { All = false }, ct), ct);

    public Task RemoveImageAsync(string reference, bool force, CancellationToken ct) =>
        Call($"remove image {reference}", reference, () => _client.Images.DeleteImageAsync(reference, new ImageDeleteParameters { Force = force }, ct), ct);

    public async Task<string> CommitContainerAsync(CommitContainerChangesParameters parameters, CancellationToken ct) =>
        (await Call($"commit container {parameters.ContainerID}", parameters.ContainerID,
            () => _client.Images.CommitContainerChangesAsync(parameters, ct), ct).ConfigureAwait(false)).ID;

    public async Task<long> WaitContainerAsync(string id, CancellationToken ct) =>
        (await Call($"wait for container {id}", id, () => _client.Containers.WaitContainerAsync(id, ct), ct).ConfigureAwait(false)).StatusCode;

    public Task<(string StdOut, string StdErr)> GetContainerLogsAsync(string id, CancellationToken ct) =>
        Call($"logs of container {id}", id, async () =>
        {
            using var stream = await _client.Containers.GetContainerLogsAsync(id,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, ct).ConfigureAwait(false);
            return await stream.ReadOutputToEndAsync(ct).ConfigureAwait(false);
        }, ct);

    public Task BuildImageAsync(Stream tarContext, ImageBuildParameters parameters, IProgress<JSONMessage> progress, CancellationToken ct) =>
        Call("build image", parameters.Tags?.FirstOrDefault(), () => _client.Images.BuildImageFromDockerfileAsync(parameters, tarContext,
            Array.Empty<AuthConfig>(), new Dictionary<string, string>(), progress, ct), ct);

    public async Task PullImageAsync(string reference, IProgress<JSONMessage> progress, CancellationToken ct)
    {
        // dockerd reports a failed pull inside the progress stream, not as an HTTP error: catch it there.
        string? failure = null;
        var watch = new PullWatch(m =>
        {
            if (m.Error is { Message: { Length: > 0 } text }) failure ??= text;
            progress.Report(m);
        });
        var colon = reference.LastIndexOf(':');
        var hasTag = colon > reference.LastIndexOf('/');
        try
        {
            await Call($"pull image {reference}", reference, () => _client.Images.CreateImageAsync(new ImagesCreateParameters
            {
                FromImage = hasTag ? reference[..colon] : reference,
                Tag = hasTag ? reference[(colon + 1)..] : "latest",
            }, null, watch, ct), ct).ConfigureAwait(false);
        }
        catch (Ds01Exception e) when (e.Kind != Ds01ErrorKind.ConnectionError || e.ErrorId != "DockerUnreachable")
        {
            failure ??= e.Message;
        }
        if (failure is not null)
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "ImagePullFailed", $"Docker could not pull '{reference}': {failure}", reference,
                "Check the name (Get-Ds01Framework lists the AIME images). If this server cannot reach the registry, ask an admin to load the image (docker load), or use an image already here (Get-Ds01Image -All).");
    }

    // Synchronous, so every report (the error included) has arrived when the pull returns.
    private sealed class PullWatch(Action<JSONMessage> report) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => report(value);
    }

    public Task<SystemInfoResponse> GetSystemInfoAsync(CancellationToken ct) =>
        Call("read Docker system info", null, () => _client.System.GetSystemInfoAsync(ct), ct);
}

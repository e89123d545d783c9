using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Docker.DotNet.Models;

namespace Ds01.Core.Docker;

/// <summary>
/// An engine for one quick read: the container list and inspect go as plain HTTP GETs over the Unix socket and
/// are read with JsonDocument, everything else goes to a <see cref="DockerEngine"/> made on first use. A cold
/// `ds01 container-list` then loads and JITs neither Docker.DotNet's HTTP stack nor its reflection-driven JSON
/// models, which is most of a cold start (bench/SeedList). Failures are the same Ds01Exceptions, with the same
/// ids and texts, as <see cref="DockerEngine"/> raises.
/// </summary>
public sealed class SocketListEngine : IContainerEngine, IDisposable
{
    private readonly string _socketPath;
    private DockerEngine? _full;

    private SocketListEngine(DockerEndpoint endpoint, string socketPath, TimeSpan timeout)
    {
        Endpoint = endpoint.Uri;
        ViaService = endpoint.ViaService;
        EndpointNote = endpoint.Note;
        _socketPath = socketPath;
        Timeout = timeout;
    }

    /// <summary>The quick engine for the resolved endpoint, or null when it is not a unix socket (use DockerEngine).</summary>
    public static SocketListEngine? TryCreate()
    {
        // No probe of DOCKER_HOST: whether it is ds01d matters only to commands that record events.
        var endpoint = DockerEndpointResolver.Resolve(probe: false);
        if (!endpoint.Uri.StartsWith("unix://", StringComparison.Ordinal)) return null;
        var path = endpoint.Uri.Substring("unix://".Length);
        if (path.Length == 0) return null;
        return new SocketListEngine(endpoint, path, DockerEngine.TimeoutFromEnvironment());
    }

    public string Endpoint { get; }
    public bool ViaService { get; }
    public string EndpointNote { get; }
    public TimeSpan Timeout { get; }

    private DockerEngine Full => _full ??= new DockerEngine(Endpoint, Timeout);

    public void Dispose() => _full?.Dispose();

    // ---------- the two reads done here ----------

    public Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, bool>? labelFilters, CancellationToken ct)
    {
        var query = "/containers/json?all=1";
        if (labelFilters is { Count: > 0 })
        {
            // Docker's filter syntax, {"label":{"key":true}}, URL-encoded; written by hand, since JsonSerializer's
            // start-up (reflection, emitted accessors) costs more than the whole list.
            var filters = new StringBuilder("{\"label\":{");
            foreach (var (key, on) in labelFilters)
                filters.Append(filters[^1] == '{' ? "" : ",").Append(JsonString(key)).Append(on ? ":true" : ":false");
            query += "&filters=" + Uri.EscapeDataString(filters.Append("}}").ToString());
        }
        using var doc = Get("list containers", null, query, ct);
        IList<ContainerListResponse> list = new List<ContainerListResponse>();
        if (doc is null) return Task.FromResult(list);
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            list.Add(new ContainerListResponse
            {
                ID = Str(c, "Id") ?? "",
                Names = c.TryGetProperty("Names", out var names) && names.ValueKind == JsonValueKind.Array
                    ? names.EnumerateArray().Select(n => n.GetString() ?? "").ToList() : new List<string>(),
                Image = Str(c, "Image") ?? "",
                State = Str(c, "State") ?? "",
                Status = Str(c, "Status") ?? "",
                Created = c.TryGetProperty("Created", out var created) && created.TryGetInt64(out var seconds)
                    ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime : default,
                Labels = LabelsOf(c),
            });
        }
        return Task.FromResult(list);
    }

    public Task<ContainerInspectResponse?> InspectContainerAsync(string nameOrId, CancellationToken ct)
    {
        using var doc = Get($"inspect container {nameOrId}", nameOrId, "/containers/" + Uri.EscapeDataString(nameOrId) + "/json", ct);
        if (doc is null) return Task.FromResult<ContainerInspectResponse?>(null);
        var c = doc.RootElement;
        var config = c.TryGetProperty("Config", out var cfg) && cfg.ValueKind == JsonValueKind.Object ? cfg : default;
        var state = c.TryGetProperty("State", out var st) && st.ValueKind == JsonValueKind.Object ? st : default;
        return Task.FromResult<ContainerInspectResponse?>(new ContainerInspectResponse
        {
            ID = Str(c, "Id") ?? "",
            Name = Str(c, "Name") ?? "",
            Image = Str(c, "Image") ?? "",
            Created = DateTime.TryParse(ToTicks(Str(c, "Created")), CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var created) ? created : default,
            Config = config.ValueKind == JsonValueKind.Object ? new() { Image = Str(config, "Image") ?? "", Labels = LabelsOf(config) } : null,
            State = state.ValueKind == JsonValueKind.Object ? new()
            {
                Status = Str(state, "Status") ?? "",
                Running = Bool(state, "Running"),
                Paused = Bool(state, "Paused"),
                Restarting = Bool(state, "Restarting"),
                StartedAt = Str(state, "StartedAt") ?? "",
                FinishedAt = Str(state, "FinishedAt") ?? "",
            } : null,
        });
    }

    // Docker writes nanoseconds; Docker.DotNet's reader drops the digits past .NET's 100 ns ticks, where DateTime.Parse
    // would round them: cut them the same way, so both paths give the same time to the tick.
    private static string? ToTicks(string? time)
    {
        if (time is null) return null;
        var dot = time.IndexOf('.');
        if (dot < 0) return time;
        var end = dot + 1;
        while (end < time.Length && char.IsAsciiDigit(time[end])) end++;
        return end - dot - 1 <= 7 ? time : string.Concat(time.AsSpan(0, dot + 8), time.AsSpan(end));
    }

    private static string JsonString(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var ch in s)
        {
            if (ch is '"' or '\\') sb.Append('\\').Append(ch);
            else if (ch < ' ') sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(ch);
        }
        return sb.Append('"').ToString();
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static IDictionary<string, string> LabelsOf(JsonElement e)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
            foreach (var p in l.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String) labels[p.Name] = p.Value.GetString()!;
        return labels;
    }

    /// <summary>One GET; the parsed JSON body, null on 404, a Ds01Exception (DockerEngine's ids) on any other failure.</summary>
    private JsonDocument? Get(string what, object? target, string pathAndQuery, CancellationToken ct)
    {
        var (status, body) = Send(what, pathAndQuery, ct);
        if (status == 200)
        {
            try { return JsonDocument.Parse(body); }
            catch (JsonException e)
            {
                throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "DockerApiError",
                    $"{what}: the answer from {Endpoint} is not JSON ({e.Message})", target, null, e);
            }
        }
        var text = Encoding.UTF8.GetString(body);
        if (ServiceError.TryParse(text) is { } refused) throw refused;
        // Inspect of a missing container answers null, as DockerEngine's does.
        if (status == 404 && target is not null) return null;
        var message = $"{what}: {Message(text)}";
        throw status switch
        {
            404 => new Ds01Exception(Ds01ErrorKind.NotFound, "DockerObjectNotFound", message, target),
            400 => new Ds01Exception(Ds01ErrorKind.InvalidArgument, "DockerBadRequest", message, target),
            401 or 403 => new Ds01Exception(Ds01ErrorKind.PermissionDenied, "DockerForbidden", message, target,
                "The Docker engine (or an authorization plugin) refused this; ask an admin."),
            _ => new Ds01Exception(Ds01ErrorKind.InvalidOperation, "DockerApiError", message, target),
        };
    }

    private static string Message(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && Str(doc.RootElement, "message") is { } m) return m;
        }
        catch (JsonException) { }
        return body.Trim();
    }

    private (int Status, byte[] Body) Send(string what, string pathAndQuery, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var ms = (int)Math.Clamp(Timeout.TotalMilliseconds, 1, int.MaxValue);
        socket.ReceiveTimeout = ms;
        socket.SendTimeout = ms;
        // Ctrl+C closes the socket, which ends a blocked receive.
        using var onCancel = ct.Register(() => socket.Dispose());
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(_socketPath));
            socket.Send(Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: docker\r\nUser-Agent: ds01\r\nConnection: close\r\n\r\n"));
            return HttpResponseReader.Read(socket);
        }
        catch (Exception e) when (IsTimeout(e) && !ct.IsCancellationRequested)
        {
            throw new Ds01Exception(Ds01ErrorKind.OperationTimeout, "DockerTimeout",
                $"The Docker engine at {Endpoint} did not answer '{what}' within {Timeout.TotalSeconds:0.#} s.", Endpoint,
                $"Check that dockerd is running and responsive (systemctl status docker); ${DockerEngine.TimeoutVariable} sets the limit in seconds.", e);
        }
        catch (Exception e) when ((e is ObjectDisposedException || e is SocketException) && ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
            throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "DockerUnreachable",
                $"Cannot reach the Docker engine at {Endpoint}: {e.Message}", Endpoint,
                "Check that dockerd is running and that you may use its socket (DOCKER_HOST).", e);
        }
    }

    private static bool IsTimeout(Exception e) =>
        (e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock;

    // ---------- everything else: the full engine ----------

    public Task<string> CreateContainerAsync(CreateContainerParameters parameters, CancellationToken ct) => Full.CreateContainerAsync(parameters, ct);
    public Task StartContainerAsync(string id, CancellationToken ct) => Full.StartContainerAsync(id, ct);
    public Task StopContainerAsync(string id, int timeoutSeconds, CancellationToken ct) => Full.StopContainerAsync(id, timeoutSeconds, ct);
    public Task KillContainerAsync(string id, CancellationToken ct) => Full.KillContainerAsync(id, ct);
    public Task PauseContainerAsync(string id, CancellationToken ct) => Full.PauseContainerAsync(id, ct);
    public Task UnpauseContainerAsync(string id, CancellationToken ct) => Full.UnpauseContainerAsync(id, ct);
    public Task RemoveContainerAsync(string id, bool force, CancellationToken ct) => Full.RemoveContainerAsync(id, force, ct);
    public Task<ContainerStatsResponse?> GetStatsAsync(string id, TimeSpan timeout, CancellationToken ct) => Full.GetStatsAsync(id, timeout, ct);
    public Task<ExecResult> ExecAsync(string id, IList<string> command, string? user, CancellationToken ct) => Full.ExecAsync(id, command, user, ct);
    public Task<string> CommitContainerAsync(CommitContainerChangesParameters parameters, CancellationToken ct) => Full.CommitContainerAsync(parameters, ct);
    public Task<long> WaitContainerAsync(string id, CancellationToken ct) => Full.WaitContainerAsync(id, ct);
    public Task<(string StdOut, string StdErr)> GetContainerLogsAsync(string id, CancellationToken ct) => Full.GetContainerLogsAsync(id, ct);
    public Task<IReadOnlyDictionary<string, long>> ContainerSizesAsync(CancellationToken ct) => Full.ContainerSizesAsync(ct);
    public Task<ImageInspectResponse?> InspectImageAsync(string reference, CancellationToken ct) => Full.InspectImageAsync(reference, ct);
    public Task<IList<ImagesListResponse>> ListImagesAsync(CancellationToken ct) => Full.ListImagesAsync(ct);
    public Task RemoveImageAsync(string reference, bool force, CancellationToken ct) => Full.RemoveImageAsync(reference, force, ct);
    public Task PullImageAsync(string reference, IProgress<JSONMessage> progress, CancellationToken ct) => Full.PullImageAsync(reference, progress, ct);
    public Task BuildImageAsync(Stream tarContext, ImageBuildParameters parameters, IProgress<JSONMessage> progress, CancellationToken ct) =>
        Full.BuildImageAsync(tarContext, parameters, progress, ct);
    public Task<SystemInfoResponse> GetSystemInfoAsync(CancellationToken ct) => Full.GetSystemInfoAsync(ct);
}

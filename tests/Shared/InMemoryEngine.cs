using System.Collections.Concurrent;
using Docker.DotNet.Models;
using Ds01.Core;
using Ds01.Core.Docker;

namespace Ds01.Tests;

/// <summary>
/// An in-memory Docker for fast unit tests of Core's logic: containers and images with Docker's observable rules
/// (unique names, an image must exist to create from, a running container is not removed without force, an image
/// in use is not removed, list Status text as dockerd writes it), its errors as the same Ds01Exceptions DockerEngine
/// raises. It never replaces the integration tests against a real dockerd; it only adds coverage of logic.
/// </summary>
public sealed class InMemoryEngine : IContainerEngine
{
    private readonly object _gate = new();
    private readonly List<Container> _containers = new();
    private readonly Dictionary<string, ImageInspectResponse> _images = new(StringComparer.Ordinal);
    private int _next;

    public InMemoryEngine(TimeProvider? clock = null) => Clock = clock ?? TimeProvider.System;

    public TimeProvider Clock { get; }

    /// <summary>What GetSystemInfoAsync answers.</summary>
    public long Cpus { get; set; } = 8;
    public string CgroupDriver { get; set; } = "cgroupfs";

    /// <summary>Called with each create request before it is stored; throw from it to make dockerd refuse the create.</summary>
    public Action<CreateContainerParameters>? BeforeCreate { get; set; }

    /// <summary>Answers exec calls; default: exit 0, no output.</summary>
    public Func<string, IList<string>, ExecResult> Exec { get; set; } = (_, _) => new ExecResult(0, "", "");

    /// <summary>Exit code of the next WaitContainerAsync (a legacy user-setup run).</summary>
    public long WaitExitCode { get; set; }

    /// <summary>Stats per container id.</summary>
    public ConcurrentDictionary<string, ContainerStatsResponse> Stats { get; } = new();

    /// <summary>Every call, in order, as "Method target" (so a test can assert what was and was not asked of Docker).</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    public IReadOnlyList<ContainerInspectResponse> Containers
    {
        get { lock (_gate) return _containers.Select(c => c.Inspect).ToList(); }
    }

    public IReadOnlyCollection<string> ImageReferences
    {
        get { lock (_gate) return _images.Keys.ToList(); }
    }

    // ---------- seeding ----------

    public ImageInspectResponse AddImage(string reference, IDictionary<string, string>? labels = null)
    {
        var image = new ImageInspectResponse
        {
            ID = "sha256:" + Hex(Interlocked.Increment(ref _next)),
            RepoTags = new List<string> { reference },
            Created = Clock.GetUtcNow().UtcDateTime,
            Config = new() { Labels = labels ?? new Dictionary<string, string>(), Cmd = new List<string> { "/bin/sh" }, Env = new List<string>() },
        };
        lock (_gate) _images[reference] = image;
        return image;
    }

    /// <summary>A container as another tool (or an earlier run) left it.</summary>
    public string AddContainer(string name, IDictionary<string, string> labels, string state = "created", DateTimeOffset? finishedAt = null,
        string image = "ds01-test/busybox:latest", HostConfig? host = null, IList<string>? env = null)
    {
        var id = Hex(Interlocked.Increment(ref _next)) + Hex(0);
        var c = new Container(id, new ContainerInspectResponse
        {
            ID = id,
            Name = "/" + name,
            Image = "sha256:" + image,
            Created = Clock.GetUtcNow().UtcDateTime,
            Config = new() { Image = image, Labels = new Dictionary<string, string>(labels), Env = env ?? new List<string>() },
            HostConfig = host ?? new HostConfig(),
            State = new State { Status = state, Running = state == "running", Paused = state == "paused", StartedAt = Zero, FinishedAt = Zero },
        });
        if (state is "running" or "paused") c.State.StartedAt = Iso(Clock.GetUtcNow());
        if (finishedAt is { } f) c.State.FinishedAt = Iso(f);
        lock (_gate) _containers.Add(c);
        return id;
    }

    // ---------- containers ----------

    /// <summary>No registry in memory: a pull fails as dockerd's does when the registry cannot be reached.</summary>
    public Task PullImageAsync(string reference, IProgress<JSONMessage> progress, CancellationToken ct) =>
        Task.FromException(new Ds01.Core.Ds01Exception(Ds01.Core.Ds01ErrorKind.ConnectionError, "ImagePullFailed", $"Docker could not pull '{reference}': no registry.", reference));

    /// <summary>Sizes are not modelled in memory: every container's writable layer is empty.</summary>
    public Task<IReadOnlyDictionary<string, long>> ContainerSizesAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>());

    public Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, bool>? labelFilters, CancellationToken ct)
    {
        Calls.Enqueue("List");
        var now = Clock.GetUtcNow();
        lock (_gate)
        {
            IList<ContainerListResponse> list = _containers
                .Where(c => labelFilters is null || labelFilters.Where(f => f.Value).All(f => c.Labels.ContainsKey(f.Key)))
                .Select(c => new ContainerListResponse
                {
                    ID = c.Id,
                    Names = new List<string> { c.Inspect.Name },
                    Image = c.Image,
                    ImageID = c.Inspect.Image,
                    Labels = new Dictionary<string, string>(c.Labels),
                    State = c.State.Status,
                    Status = StatusText(c.State, now),
                    Created = c.Inspect.Created,
                }).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<ContainerInspectResponse?> InspectContainerAsync(string nameOrId, CancellationToken ct)
    {
        Calls.Enqueue("Inspect " + nameOrId);
        lock (_gate) return Task.FromResult(Find(nameOrId)?.Inspect);
    }

    public Task<string> CreateContainerAsync(CreateContainerParameters p, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Calls.Enqueue("Create " + p.Name);
        BeforeCreate?.Invoke(p);
        lock (_gate)
        {
            if (!string.IsNullOrEmpty(p.Name) && Find(p.Name) is not null)
                throw new Ds01Exception(Ds01ErrorKind.AlreadyExists, "ContainerExists", $"Conflict. The container name \"/{p.Name}\" is already in use.", p.Name);
            var image = _images.TryGetValue(p.Image, out var byName) ? byName : _images.Values.FirstOrDefault(i => i.ID == p.Image);
            if (image is null)
                throw new Ds01Exception(Ds01ErrorKind.NotFound, "DockerObjectNotFound", $"No such image: {p.Image}", p.Image);
            var id = Hex(Interlocked.Increment(ref _next)) + Hex(0);
            _containers.Add(new Container(id, new ContainerInspectResponse
            {
                ID = id,
                Name = "/" + (string.IsNullOrEmpty(p.Name) ? "c" + id[..8] : p.Name),
                Image = image.ID,
                Created = Clock.GetUtcNow().UtcDateTime,
                Config = new()
                {
                    Image = p.Image, Labels = new Dictionary<string, string>(p.Labels ?? new Dictionary<string, string>()),
                    Env = new List<string>(p.Env ?? new List<string>()), User = p.User, WorkingDir = p.WorkingDir, Tty = p.Tty,
                    OpenStdin = p.OpenStdin, Cmd = p.Cmd, Entrypoint = p.Entrypoint,
                },
                HostConfig = p.HostConfig ?? new HostConfig(),
                State = new State { Status = "created", StartedAt = Zero, FinishedAt = Zero },
            }));
            return Task.FromResult(id);
        }
    }

    public Task StartContainerAsync(string id, CancellationToken ct) => Change("Start", id, s =>
    {
        if (s.Paused) throw Conflict($"cannot start a paused container {id}");
        if (s.Running) return;
        s.Running = true;
        s.Status = "running";
        s.StartedAt = Iso(Clock.GetUtcNow());
        s.FinishedAt = Zero;
    });

    public Task StopContainerAsync(string id, int timeoutSeconds, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Change("Stop", id, s => Exit(s, 0));
    }

    public Task KillContainerAsync(string id, CancellationToken ct) => Change("Kill", id, s =>
    {
        if (!s.Running) throw Conflict($"Container {id} is not running");
        Exit(s, 137);
    });

    public Task PauseContainerAsync(string id, CancellationToken ct) => Change("Pause", id, s =>
    {
        if (!s.Running || s.Paused) throw Conflict($"Container {id} is not running or already paused");
        s.Paused = true;
        s.Status = "paused";
    });

    public Task UnpauseContainerAsync(string id, CancellationToken ct) => Change("Unpause", id, s =>
    {
        if (!s.Paused) throw Conflict($"Container {id} is not paused");
        s.Paused = false;
        s.Status = "running";
    });

    public Task RemoveContainerAsync(string id, bool force, CancellationToken ct)
    {
        Calls.Enqueue("Remove " + id);
        lock (_gate)
        {
            var c = Find(id) ?? throw NotFound(id);
            if ((c.State.Running || c.State.Paused) && !force)
                throw Conflict($"You cannot remove a running container {c.Id}. Stop the container before attempting removal or force remove");
            _containers.Remove(c);
        }
        return Task.CompletedTask;
    }

    public Task<ContainerStatsResponse?> GetStatsAsync(string id, TimeSpan timeout, CancellationToken ct)
    {
        Calls.Enqueue("Stats " + id);
        return Task.FromResult(Stats.TryGetValue(id, out var s) ? s : null);
    }

    public Task<ExecResult> ExecAsync(string id, IList<string> command, string? user, CancellationToken ct)
    {
        Calls.Enqueue("Exec " + id + " " + string.Join(" ", command));
        lock (_gate)
        {
            var c = Find(id) ?? throw NotFound(id);
            if (!c.State.Running) throw Conflict($"Container {id} is not running");
        }
        return Task.FromResult(Exec(id, command));
    }

    public Task<string> CommitContainerAsync(CommitContainerChangesParameters p, CancellationToken ct)
    {
        Calls.Enqueue("Commit " + p.ContainerID);
        lock (_gate)
        {
            _ = Find(p.ContainerID) ?? throw NotFound(p.ContainerID);
        }
        var image = AddImage($"{p.RepositoryName}:{p.Tag}", p.Labels);
        return Task.FromResult(image.ID);
    }

    public Task<long> WaitContainerAsync(string id, CancellationToken ct)
    {
        var code = WaitExitCode;
        return Change("Wait", id, s => Exit(s, code)).ContinueWith(_ => code, ct, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    public Task<(string StdOut, string StdErr)> GetContainerLogsAsync(string id, CancellationToken ct) => Task.FromResult(("", ""));

    // ---------- images ----------

    public Task<ImageInspectResponse?> InspectImageAsync(string reference, CancellationToken ct)
    {
        Calls.Enqueue("InspectImage " + reference);
        lock (_gate)
            return Task.FromResult(_images.TryGetValue(reference, out var i) ? i : _images.Values.FirstOrDefault(v => v.ID == reference));
    }

    public Task<IList<ImagesListResponse>> ListImagesAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            IList<ImagesListResponse> list = _images.GroupBy(kv => kv.Value.ID).Select(g => new ImagesListResponse
            {
                ID = g.Key,
                RepoTags = g.Select(kv => kv.Key).ToList(),
                Labels = g.First().Value.Config?.Labels ?? new Dictionary<string, string>(),
                Created = g.First().Value.Created ?? default,
            }).ToList();
            return Task.FromResult(list);
        }
    }

    public Task RemoveImageAsync(string reference, bool force, CancellationToken ct)
    {
        Calls.Enqueue("RemoveImage " + reference);
        lock (_gate)
        {
            if (!_images.TryGetValue(reference, out var image)) throw NotFound(reference);
            if (!force && _containers.Any(c => c.Inspect.Image == image.ID))
                throw Conflict($"conflict: unable to remove repository reference \"{reference}\" - container is using its referenced image");
            _images.Remove(reference);
        }
        return Task.CompletedTask;
    }

    /// <summary>Records the build as an image with the parameters' tags and labels; the context is read and discarded.</summary>
    public async Task BuildImageAsync(Stream tarContext, ImageBuildParameters parameters, IProgress<JSONMessage> progress, CancellationToken ct)
    {
        await tarContext.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
        foreach (var tag in parameters.Tags ?? new List<string>()) AddImage(tag, parameters.Labels);
        progress.Report(new JSONMessage { Stream = "Successfully built\n" });
    }

    public Task<SystemInfoResponse> GetSystemInfoAsync(CancellationToken ct) =>
        Task.FromResult(new SystemInfoResponse { NCPU = Cpus, CgroupDriver = CgroupDriver });

    // ---------- Docker's own rules ----------

    /// <summary>The list Status text, as dockerd writes it (container/state.go with go-units' HumanDuration).</summary>
    public static string StatusText(State s, DateTimeOffset now)
    {
        if (s.Status == "created") return "Created";
        if (s.Running || s.Paused)
            return $"Up {HumanDuration(now - DateTimeOffset.Parse(s.StartedAt))}{(s.Paused ? " (Paused)" : "")}";
        var finished = s.FinishedAt is null || s.FinishedAt.StartsWith("0001-", StringComparison.Ordinal) ? (DateTimeOffset?)null : DateTimeOffset.Parse(s.FinishedAt);
        return finished is { } f ? $"Exited ({s.ExitCode}) {HumanDuration(now - f)} ago" : $"Exited ({s.ExitCode})";
    }

    /// <summary>A port of go-units' HumanDuration: seconds and minutes floor, hours round to the nearest.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < 1) return "Less than a second";
        if (seconds == 1) return "1 second";
        if (seconds < 60) return $"{seconds} seconds";
        var minutes = (long)d.TotalMinutes;
        if (minutes == 1) return "About a minute";
        if (minutes < 60) return $"{minutes} minutes";
        var hours = (long)Math.Round(d.TotalHours, MidpointRounding.AwayFromZero);
        if (hours == 1) return "About an hour";
        if (hours < 48) return $"{hours} hours";
        if (hours < 24 * 7 * 2) return $"{hours / 24} days";
        if (hours < 24 * 30 * 2) return $"{hours / 24 / 7} weeks";
        if (hours < 24 * 365 * 2) return $"{hours / 24 / 30} months";
        return $"{(long)d.TotalHours / 24 / 365} years";
    }

    private void Exit(State s, long code)
    {
        if (!s.Running && !s.Paused) return;
        s.Running = false;
        s.Paused = false;
        s.Status = "exited";
        s.ExitCode = code;
        s.FinishedAt = Iso(Clock.GetUtcNow());
    }

    private Task Change(string what, string id, Action<State> change)
    {
        Calls.Enqueue(what + " " + id);
        lock (_gate)
        {
            var c = Find(id) ?? throw NotFound(id);
            change(c.State);
        }
        return Task.CompletedTask;
    }

    private Container? Find(string nameOrId) =>
        _containers.FirstOrDefault(c => c.Inspect.Name == "/" + nameOrId || c.Id == nameOrId) ??
        (nameOrId.Length >= 12 ? _containers.FirstOrDefault(c => c.Id.StartsWith(nameOrId, StringComparison.Ordinal)) : null);

    private static Ds01Exception NotFound(string what) =>
        new(Ds01ErrorKind.NotFound, "DockerObjectNotFound", $"No such container or image: {what}", what);

    private static Ds01Exception Conflict(string message) =>
        new(Ds01ErrorKind.InvalidOperation, "DockerConflict", message, null);

    private const string Zero = "0001-01-01T00:00:00Z";
    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
    private static string Hex(int n) => n.ToString("x32");

    private sealed record Container(string Id, ContainerInspectResponse Inspect)
    {
        // Every container this fake makes has both; a missing one is a bug in the fake, not a Docker answer.
        public State State => Inspect.State ?? throw new InvalidOperationException($"Fake container {Id} has no State.");
        public IDictionary<string, string> Labels => Inspect.Config?.Labels ?? throw new InvalidOperationException($"Fake container {Id} has no labels.");
        public string Image => Inspect.Config?.Image ?? throw new InvalidOperationException($"Fake container {Id} has no image.");
    }
}

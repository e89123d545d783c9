using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Events;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Ds01.Core.Images;
using Ds01.Core.Naming;
using Ds01.Service.Binds;
using Ds01.Service.Proxy;

namespace Ds01.Service.Policy;

/// <summary>
/// The allow-list. Admins (root, or listed under admins in the service's own config) may do anything; for
/// everyone else an endpoint not named here is refused. Listing containers, images, events and the daemon's info
/// shows everything (as `ps` does on a shared host, and as the GPU allocator needs to see every holding); acting on
/// a container, reading its logs, stats, files or exec-ing into it needs its owner; images are the caller's own
/// under ds01-&lt;uid&gt;/; volumes, networks, swarm, plugins, prune and the system endpoints are for admins.
/// </summary>
internal sealed class RequestPolicy
{
    private static readonly Regex ReservedImage = new(@"^(?:docker\.io/)?ds01-([0-9]+)/", RegexOptions.CultureInvariant);
    private readonly ServiceOptions _options;
    private readonly Upstream _docker;
    private readonly IIdentitySource _identities;
    private readonly EventLog _events;
    private readonly Lazy<DockerEngine> _engine;
    private readonly BindMounter _binds;

    public RequestPolicy(ServiceOptions options, Upstream docker, IIdentitySource identities, BindMounter binds)
    {
        _options = options;
        _binds = binds;
        _docker = docker;
        _identities = identities;
        _events = new EventLog(options.Paths.EventLogFile, "ds01d");
        _engine = new Lazy<DockerEngine>(() => new DockerEngine(options.Docker));
    }

    public async Task<Verdict> DecideAsync(ApiRequest r, Caller c, Func<Task<byte[]>> body, CancellationToken ct)
    {
        var s = r.Segments;
        var head = s.Count > 0 ? s[0] : "";
        // Read-only daemon endpoints: everyone.
        if ((r.Is("GET", "_ping") || r.Is("HEAD", "_ping") || r.Is("GET", "version") || r.Is("GET", "info") || r.Is("GET", "events")))
            return Verdict.Pass;
        if (r.Is("GET", "containers", "json") || r.Is("GET", "images", "json")) return Verdict.Pass;

        if (head == "containers" && s.Count >= 2)
        {
            if (r.Is("POST", "containers", "create")) return await CreateAsync(r, c, body, ct).ConfigureAwait(false);
            if (s.Count == 2 && r.Method == "DELETE")
            {
                if (!c.IsAdmin && r.QueryFlag("link")) throw Deny.AdminsOnly(r);
                var (owner, found) = await InspectOwnedAsync(s[1], c, ct).ConfigureAwait(false);
                var dirs = found.Binds.Select(b => b.Dir).Distinct().ToList();
                var logged = Logged(c, owner, "container.remove", 204);
                return new Verdict
                {
                    After = status =>
                    {
                        logged.After!(status);
                        if (status == 204) foreach (var d in dirs) _binds.Remove(d);
                    },
                };
            }
            if (s.Count >= 3) return await ContainerActionAsync(r, c, body, ct).ConfigureAwait(false);
        }
        if (head == "exec" && s.Count == 3 && (r.Is("POST", "exec", "*", "start") || r.Is("POST", "exec", "*", "resize") || r.Is("GET", "exec", "*", "json")))
        {
            if (c.IsAdmin) return Verdict.Pass;
            var (status, doc) = await _docker.GetJsonAsync($"/exec/{Uri.EscapeDataString(s[1])}/json", ct).ConfigureAwait(false);
            using (doc)
            {
                if (doc is null) return Verdict.Pass; // dockerd answers its own 404
                var container = doc.RootElement.TryGetProperty("ContainerID", out var id) ? id.GetString() ?? "" : "";
                await OwnerAsync(container, c, ct).ConfigureAwait(false);
                return Verdict.Pass;
            }
        }
        if (head == "images" || r.Is("POST", "build") || r.Is("POST", "commit")) return await ImageAsync(r, c, ct).ConfigureAwait(false);

        if (c.IsAdmin) return Verdict.Pass;
        throw Deny.AdminsOnly(r);
    }

    // ---------- containers ----------

    private sealed record Owner(string Tag, int? Uid, string? Name);

    private async Task<Owner?> OwnerAsync(string idOrName, Caller c, CancellationToken ct) =>
        (await InspectOwnedAsync(idOrName, c, ct).ConfigureAwait(false)).Owner;

    /// <summary>The container's owner (checked against the caller) and its binds, from one inspect.</summary>
    private async Task<(Owner? Owner, ContainerBinds Binds)> InspectOwnedAsync(string idOrName, Caller c, CancellationToken ct)
    {
        var (_, doc) = await _docker.GetJsonAsync($"/containers/{Uri.EscapeDataString(idOrName)}/json", ct).ConfigureAwait(false);
        Owner? owner = null;
        var binds = new ContainerBinds(new List<BindRef>(), new Dictionary<string, string>(), idOrName, "");
        using (doc)
        {
            if (doc is not null)
            {
                var root = doc.RootElement;
                var tag = root.TryGetProperty("Name", out var n) ? (n.GetString() ?? "").TrimStart('/') : idOrName;
                var labels = new Dictionary<string, string>();
                if (root.TryGetProperty("Config", out var cfg) && cfg.ValueKind == JsonValueKind.Object &&
                    cfg.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
                    foreach (var p in l.EnumerateObject()) labels[p.Name] = p.Value.GetString() ?? "";
                var uid = ContainerNaming.ParseTag(tag).Uid;
                if (uid is null && labels.TryGetValue(Labels.UserId, out var u) && int.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out var lu)) uid = lu;
                var name = Labels.Owner(labels);
                if (uid is null && name is not null) uid = _identities.FindByName(name)?.Uid;
                name ??= uid is { } x ? _identities.FindByUid(x)?.Name : null;
                owner = new Owner(tag, uid, name);
                if (root.ValueKind == JsonValueKind.Object) binds = BindsOf(root, idOrName);
            }
        }
        return (Owned(owner, idOrName, c), binds);
    }

    private static Owner? Owned(Owner? owner, string idOrName, Caller c)
    {
        if (c.IsAdmin) return owner;
        if (owner is null)
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "ContainerNotFound", $"There is no container '{idOrName}'.", idOrName,
                "Get-Ds01Container lists yours.");
        if (owner.Uid != c.Uid)
            throw Deny.Forbidden("NotOwner", $"Container '{owner.Tag}' belongs to '{owner.Name ?? "another user"}', not to you ('{c.Name}').", owner.Tag,
                "You can only act on your own containers.");
        return owner;
    }

    private static readonly string[] OwnerReads = { "json", "logs", "stats", "top", "changes", "export", "attach", "wait", "resize" };

    private async Task<Verdict> ContainerActionAsync(ApiRequest r, Caller c, Func<Task<byte[]>> body, CancellationToken ct)
    {
        var s = r.Segments;
        var id = s[1];
        var action = string.Join('/', s.Skip(2));
        var known = action is "start" or "stop" or "kill" or "restart" or "pause" or "unpause" or "exec" or "rename" or "update" or "archive" or "attach/ws"
                    || OwnerReads.Contains(action);
        if (!known)
        {
            if (c.IsAdmin) return Verdict.Pass;
            throw Deny.AdminsOnly(r);
        }
        if (!c.IsAdmin)
        {
            if (action == "update")
                throw Deny.Forbidden("LimitsFixedAtCreate", "A container's limits are fixed when it is created; they cannot be changed under ds01d.", id,
                    "Create a new container; your quota applies to it (Get-Ds01ResourceLimit).");
            if (action == "archive" && r.Method == "PUT")
                throw Deny.Forbidden("CopyIntoContainerNotAllowed", "Copying files into a container (docker cp to it) is not allowed under ds01d: dockerd writes them as root, also into your mounted directories.", id,
                    "Put files into your workspace directory on the host; it is mounted at /workspace.");
        }
        var (owner, found) = await InspectOwnedAsync(id, c, ct).ConfigureAwait(false);
        if (!c.IsAdmin && action == "rename")
        {
            var to = r.QueryValue("name") ?? "";
            if (ContainerNaming.ParseTag(to).Uid != c.Uid)
                throw Deny.Forbidden("TagNotYours", $"The new name '{to}' must end in '._.{c.Uid}'.", to, $"Rename it to NAME._.{c.Uid}.");
        }
        if (!c.IsAdmin && action == "exec" && r.Method == "POST")
        {
            var exec = JsonFields.ParseObject(await body().ConfigureAwait(false), "exec");
            if (JsonFields.Bool(exec, "Privileged"))
                throw Deny.Forbidden("PrivilegedNotAllowed", "A privileged exec is not allowed under ds01d.", id, "Leave out --privileged.");
            var user = (JsonFields.Str(exec, "User") ?? "").Split(':')[0];
            if (user.Length > 0 && user != c.Uid.ToString(CultureInfo.InvariantCulture) && user != c.User?.Name)
                throw Deny.Forbidden("ExecUserNotYours", $"An exec as '{user}' is not allowed under ds01d; it runs as the container's user.", id, "Leave out --user.");
            return Verdict.Pass;
        }
        if (action is "start" or "restart")
        {
            var session = new Ds01Session(_options.Paths, _identities);
            await CheckClusterStartAsync(found, session, ct).ConfigureAwait(false);
            EnsureBinds(found, c);
            if (!c.IsAdmin) return await GpuStartAsync(id, session, Logged(c, owner, action == "start" ? "container.start" : "container.restart", 204), ct).ConfigureAwait(false);
        }
        return action switch
        {
            "start" => Logged(c, owner, "container.start", 204),
            "stop" => Logged(c, owner, "container.stop", 204, ("method", "stop")),
            "kill" => Logged(c, owner, "container.stop", 204, ("method", "kill")),
            "restart" => Logged(c, owner, "container.restart", 204),
            "pause" => Logged(c, owner, "container.pause", 204),
            "unpause" => Logged(c, owner, "container.unpause", 204),
            _ => Verdict.Pass,
        };
    }

    /// <summary>
    /// A container with GPUs whose hold after stop has passed holds nothing; another create may have been given its
    /// slot since. Its start is checked as the cmdlets check it (GpuService.StartAsync), with ds01d's holdings,
    /// reservations and queue, and dockerd starts it inside that hold of the lock: a raw `docker start` is no way
    /// around it, and two users starting at once cannot both pass. (On a Slurm node the job holds the GPUs.)
    /// </summary>
    private async Task<Verdict> GpuStartAsync(string id, Ds01Session session, Verdict logged, CancellationToken ct)
    {
        if (session.Config.Cluster.IsSlurm) return logged;
        var container = await _engine.Value.InspectContainerAsync(id, ct).ConfigureAwait(false);
        // dockerd answers its own 404; a running container holds its slots, and its restart (with the user's stop
        // timeout) must not hold the lock that every create and start waits for.
        if (container is null || container.State?.Running == true) return logged;
        var placement = new GpuService(session, _engine.Value);
        return new Verdict
        {
            CompleteWithoutClient = true,
            After = logged.After,
            Around = async forward =>
            {
                var status = 0;
                await placement.StartAsync(container, async () => status = await forward().ConfigureAwait(false), ct).ConfigureAwait(false);
                return status;
            },
        };
    }

    /// <summary>On a Slurm node, a container of a job that no longer runs here is not started again: its GRES is free for others. For admins too.</summary>
    private async Task CheckClusterStartAsync(ContainerBinds found, Ds01Session session, CancellationToken ct)
    {
        var cluster = session.Config.Cluster;
        if (!cluster.IsSlurm) return;
        if (Core.Cluster.ClusterLabels.JobOf(found.Labels) is { } jobId)
            await ClusterAdmission.CheckStartAsync(found.Tag, jobId, cluster, _options.SlurmNode, ct).ConfigureAwait(false);
    }

    private Verdict Logged(Caller c, Owner? owner, string type, int success, params (string Key, object? Value)[] extra) => new()
    {
        After = status =>
        {
            if (status != success) return;
            var details = new Dictionary<string, object?> { ["container"] = owner?.Tag, ["pid"] = c.Peer.Pid };
            foreach (var (k, v) in extra) details[k] = v;
            if (owner?.Uid != c.Uid) details["by"] = c.Name;
            _events.Write(type, owner?.Name ?? c.Name, details);
        },
    };

    private async Task<Verdict> CreateAsync(ApiRequest r, Caller c, Func<Task<byte[]>> body, CancellationToken ct)
    {
        if (c.IsAdmin) return Logged(c, new Owner(r.QueryValue("name") ?? "", ContainerNaming.ParseTag(r.QueryValue("name") ?? "").Uid, null), "container.create", 201);
        var user = RequireAccount(c);
        var config = RequireConfig(c);
        var admitted = CreateAdmission.Check(r.QueryValue("name"), await body().ConfigureAwait(false), user, config,
            _binds.NewDirectory((r.QueryValue("name") ?? "").TrimStart('/')));
        var wait = TakeWait(admitted.Body);
        await CheckImageAsync(admitted, user, ct).ConfigureAwait(false);
        // The service's own session (root, its own config and state dir): its placement owns the allocation lock.
        var session = new Ds01Session(_options.Paths, _identities);
        var placement = new GpuService(session, _engine.Value);
        IReadOnlyList<Ds01GpuSlot> inventory = Array.Empty<Ds01GpuSlot>();
        var gpuSlots = new List<string>();
        Core.Cluster.SlurmJob? job = null;
        if (session.Config.Cluster.IsSlurm)
        {
            // A Slurm node: the create is the workload of the caller's running job here, whose GRES slurmctld holds,
            // so the job (not the local allocator) decides the GPUs and ds01d writes them (Policy/ClusterAdmission.cs).
            job = await ClusterAdmission.JobAsync(admitted.Body, admitted.Tag, session.Config.Cluster, ct).ConfigureAwait(false);
            ClusterAdmission.Check(job, admitted.Tag, admitted.GpuDevices, user, _options.SlurmNode);
            ClusterAdmission.Apply(admitted.Body, job, session, admitted.Limits.GpuHoldAfterStopMinutes);
        }
        else if (admitted.GpuDevices.Count > 0)
        {
            inventory = placement.Slots;
            gpuSlots = ResolveSlots(admitted.GpuDevices, inventory);
            LabelGpu(admitted, gpuSlots, inventory);
        }
        else ClearGpu(admitted);
        return new Verdict
        {
            CompleteWithoutClient = true,
            Body = System.Text.Encoding.UTF8.GetBytes(admitted.Body.ToJsonString()),
            // Inside the placement's hold of the lock (the same lock file the service's own creates use; users cannot
            // open the service's state dir): count containers, check the named slots, then forward the create.
            Around = async forward =>
            {
                // The checked directories, opened without links and mounted where the rewritten body points.
                if (admitted.BindDir is { } dir)
                {
                    var idmapped = _binds.MountAll(dir, admitted.Binds, new MountPolicy(config).AllowedRoots(user), user);
                    if (admitted.RootWithBinds && !idmapped)
                    {
                        _binds.Remove(dir);
                        throw RootNeedsIdmap(admitted.Tag);
                    }
                }
                int status;
                var forwarded = false;
                try
                {
                    status = await placement.PlaceAsync<int>(null, async _ =>
                    {
                        await CheckContainerCountAsync(user, admitted, ct).ConfigureAwait(false);
                        if (gpuSlots.Count == 0)
                        {
                            forwarded = true;
                            return await forward().ConfigureAwait(false);
                        }
                        await CheckGpuAsync(user, admitted, placement, inventory, gpuSlots, wait, c.Peer.Pid, ct).ConfigureAwait(false);
                        // Taken until dockerd has answered: a create whose client is killed, or whose answer is lost, may
                        // still make the container, so the slot is nobody else's until then (GpuReservations).
                        var reservation = placement.Reservations.Reserve(admitted.Tag, user.Name, gpuSlots,
                            gpuSlots.Select(s => inventory.FirstOrDefault(x => x.Slot == s)?.Uuid ?? s).ToList());
                        forwarded = true;
                        var answered = await forward().ConfigureAwait(false);
                        placement.Reservations.Release(reservation);
                        return answered;
                    }, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is Ds01Exception || !forwarded)
                {
                    // Refused under the lock, or the client went away before it was asked: nothing reached dockerd. (An
                    // I/O failure mid-forward keeps the mounts; ds01d's sweep removes unused ones.)
                    if (admitted.BindDir is { } d) _binds.Remove(d);
                    throw;
                }
                if (status != 201 && admitted.BindDir is { } failed) _binds.Remove(failed);
                return status;
            },
            After = status =>
            {
                if (status != 201) return;
                var details = new Dictionary<string, object?>
                {
                    ["container"] = admitted.Tag, ["gpu"] = job is null ? string.Join(",", gpuSlots) : string.Join(",", job.GpuIndices), ["pid"] = c.Peer.Pid,
                    ["cpu_limit"] = admitted.Limits.CpuLimit, ["memory_limit"] = admitted.Limits.MemoryLimitBytes,
                };
                if (job is not null) { details["slurm_job"] = job.JobId; details["node"] = _options.SlurmNode; }
                _events.Write("container.create", user.Name, details);
            },
        };
    }

    private static Ds01Exception RootNeedsIdmap(string tag) => Deny.Forbidden("RootNeedsIdmappedBinds",
        "A container running as root with host directories mounted needs idmapped binds (container root writing as 65534 on the host), and this server's file system cannot idmap them.", tag,
        "Run as yourself (--user UID:GID; New-Ds01Container does), or ask an admin (ds01d's status page shows the bind mode).");

    private sealed record BindRef(string Source, string Dir, int Index, bool ReadOnly);
    private sealed record ContainerBinds(List<BindRef> Binds, Dictionary<string, string> Labels, string Tag, string User);

    /// <summary>The container's bind sources that are ds01d's (BINDDIR/N), with its labels, from its inspect document.</summary>
    private ContainerBinds BindsOf(JsonElement root, string id)
    {
        var tag = root.TryGetProperty("Name", out var n) && n.ValueKind == JsonValueKind.String ? (n.GetString() ?? "").TrimStart('/') : id;
        var labels = new Dictionary<string, string>();
        var user = "";
        if (root.TryGetProperty("Config", out var cfg) && cfg.ValueKind == JsonValueKind.Object)
        {
            if (cfg.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
                foreach (var p in l.EnumerateObject()) if (p.Value.ValueKind == JsonValueKind.String) labels[p.Name] = p.Value.GetString() ?? "";
            if (cfg.TryGetProperty("User", out var u) && u.ValueKind == JsonValueKind.String) user = u.GetString() ?? "";
        }
        var binds = new List<BindRef>();
        void Add(string source, bool ro)
        {
            if (_binds.Parse(source) is { } p) binds.Add(new BindRef(source, p.Dir, p.Index, ro));
        }
        if (root.TryGetProperty("HostConfig", out var host) && host.ValueKind == JsonValueKind.Object)
        {
            if (host.TryGetProperty("Binds", out var b) && b.ValueKind == JsonValueKind.Array)
                foreach (var x in b.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString() ?? ""))
                {
                    var parts = x.Split(':');
                    Add(parts[0], parts.Length > 2 && parts[2].Split(',').Contains("ro"));
                }
            if (host.TryGetProperty("Mounts", out var m) && m.ValueKind == JsonValueKind.Array)
                foreach (var x in m.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Object))
                    if (x.TryGetProperty("Source", out var src) && src.ValueKind == JsonValueKind.String)
                        Add(src.GetString() ?? "", x.TryGetProperty("ReadOnly", out var ro) && ro.ValueKind == JsonValueKind.True);
        }
        return new ContainerBinds(binds, labels, tag, user);
    }

    /// <summary>
    /// Before a start: each of the container's binds that is not mounted (after a reboot or a ds01d restart; /run is
    /// emptied) is mounted again from its ds01.bind.N label, re-checked against the owner's allowed roots and opened
    /// without links exactly as at create.
    /// </summary>
    private void EnsureBinds(ContainerBinds found, Caller c)
    {
        foreach (var b in found.Binds)
        {
            if (BindMounter.IsMounted(b.Source)) continue;
            if (!found.Labels.TryGetValue(Labels.BindDir, out var dir) || dir != b.Dir ||
                !found.Labels.TryGetValue(Labels.BindPrefix + b.Index.ToString(CultureInfo.InvariantCulture), out var path))
                throw Deny.Forbidden("BindSourceUnknown", $"Container '{found.Tag}' mounts '{b.Source}', whose host path ds01d did not record.", found.Tag,
                    "Create the container again (New-Ds01Container).");
            var owner = ContainerNaming.ParseTag(found.Tag).Uid is { } uid ? _identities.FindByUid(uid) : null;
            if (owner is null)
                throw Deny.Forbidden("UnknownAccount", $"The owner of '{found.Tag}' has no account on this machine.", found.Tag, "Ask an admin to check 'getent passwd'.");
            var policy = new MountPolicy(RequireConfig(c));
            var real = policy.Check(path, owner, "bind source");
            var idmapped = _binds.Mount(b.Source, new BindSource(b.Index, real, b.ReadOnly), policy.AllowedRoots(owner), owner);
            if (!idmapped && found.User.Split(':')[0] is "0" or "root")
            {
                _binds.Remove(b.Dir);
                throw RootNeedsIdmap(found.Tag);
            }
        }
    }

    /// <summary>At start-up: bind directories no container refers to any more (removed behind ds01d's back) are unmounted and removed.</summary>
    public async Task<int> SweepBindsAsync(CancellationToken ct)
    {
        var (status, doc) = await _docker.GetJsonAsync("/containers/json?all=1", ct).ConfigureAwait(false);
        using (doc)
        {
            if (status != 200 || doc is null || doc.RootElement.ValueKind != JsonValueKind.Array) return 0;
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var c in doc.RootElement.EnumerateArray())
                if (c.TryGetProperty("Mounts", out var mounts) && mounts.ValueKind == JsonValueKind.Array)
                    foreach (var m in mounts.EnumerateArray())
                        if (m.TryGetProperty("Source", out var src) && src.ValueKind == JsonValueKind.String && _binds.Parse(src.GetString() ?? "") is { } p)
                            used.Add(p.Dir);
            // Young directories may belong to a create in flight in another ds01d.
            return _binds.Sweep(used, TimeSpan.FromMinutes(5));
        }
    }

    private async Task CheckContainerCountAsync(UserIdentity user, AdmittedCreate admitted, CancellationToken ct)
    {
        var twins = !admitted.Tag.StartsWith(Ds01.Core.Images.UserSetupPath.SetupContainerPrefix, StringComparison.Ordinal);
        var max = admitted.Limits.MaxContainers;
        if (!twins && max is null) return;
        var name = ContainerNaming.ParseTag(admitted.Tag).Name;
        // One GET of the caller's containers by Docker's name filter (ContainerNaming.DockerNameFilter matches what
        // ParseTag reads), not a list of every container on the server: dockerd's per-container work and the parsing
        // then cost as many containers as the caller has. Without a limit, only names like this one are needed.
        var tags = await OwnTagsAsync(user, (max is null ? ContainerNaming.DockerNameFilter(user.Uid, name) : null) ?? ContainerNaming.DockerNameFilter(user.Uid)!, ct)
            .ConfigureAwait(false);
        // Under the lock, so two racing creates of "thesis" and "Thesis" cannot both pass (ContainerCreation checks the same for its own).
        if (twins && tags.Select(t => ContainerNaming.ParseTag(t).Name).FirstOrDefault(n => n != name && string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) is { } twin)
            throw new Ds01Exception(Ds01ErrorKind.AlreadyExists, "ContainerNameDiffersInCase",
                $"You already have a container named '{twin}', which differs from '{name}' only in case.", admitted.Tag,
                $"Use '{twin}' itself, or a name that differs by more than case.");
        if (max is not { } limit) return;
        var mine = tags.Count;
        if (mine >= limit)
            throw new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "ContainerLimitReached", $"You have {mine} containers; your limit is {limit}.", admitted.Tag,
                "Remove a container you no longer need (Get-Ds01Container -State Stopped | Remove-Ds01Container).");
    }

    /// <summary>
    /// The names of the caller's containers that Docker's name filter <paramref name="pattern"/> selects, each checked
    /// again with ParseTag; a container's own name only (Names also holds its link aliases, /other/alias). Any answer
    /// but a list is an error: a count that could not be made never passes.
    /// </summary>
    private async Task<List<string>> OwnTagsAsync(UserIdentity user, string pattern, CancellationToken ct)
    {
        var filters = new JsonObject { ["name"] = new JsonObject { [pattern] = true } }.ToJsonString();
        var (status, doc) = await _docker.GetJsonAsync($"/containers/json?all=1&filters={Uri.EscapeDataString(filters)}", ct).ConfigureAwait(false);
        using (doc)
        {
            if (status != 200 || doc is null || doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "DockerListFailed",
                    $"dockerd did not list {user.Name}'s containers (HTTP {status}), so the create could not be checked.", user.Name,
                    "Try again; if it persists, ask an admin to look at dockerd and ds01d's log.");
            var tags = new List<string>();
            foreach (var c in doc.RootElement.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("Names", out var names) || names.ValueKind != JsonValueKind.Array) continue;
                var all = names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => (n.GetString() ?? "").TrimStart('/')).ToList();
                var own = all.FirstOrDefault(n => !n.Contains('/')) ?? all.FirstOrDefault();
                if (own is not null && ContainerNaming.ParseTag(own).Uid == user.Uid) tags.Add(own);
            }
            return tags;
        }
    }

    /// <summary>The slots the request names, by slot id or UUID ("all": every slot of this machine).</summary>
    private static List<string> ResolveSlots(IReadOnlyList<string> devices, IReadOnlyList<Ds01GpuSlot> slots)
    {
        var requested = new List<string>();
        foreach (var d in devices)
        {
            if (d == "all") { requested.AddRange(slots.Select(x => x.Slot)); continue; }
            requested.Add(slots.FirstOrDefault(x => string.Equals(x.Uuid, d, StringComparison.OrdinalIgnoreCase))?.Slot ?? Ds01GpuSlot.NormalizeSlotId(d));
        }
        return requested.Distinct().ToList();
    }

    /// <summary>
    /// The slots go into Ds01's labels however they were asked for (env, DeviceRequests), so the allocator counts the
    /// container while it is created or stopped too, not only while it runs.
    /// </summary>
    private static void LabelGpu(AdmittedCreate admitted, IReadOnlyList<string> slots, IReadOnlyList<Ds01GpuSlot> inventory)
    {
        var labels = JsonFields.Obj(admitted.Body, "Labels")!;
        var joined = string.Join(",", slots);
        labels[Labels.GpuSlots] = joined;
        labels[Labels.GpuUuids] = string.Join(",", slots.Select(s => inventory.FirstOrDefault(x => x.Slot == s)?.Uuid ?? s));
        labels[Labels.GpuAllocated] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        labels[Labels.GpuHoldMinutes] = admitted.Limits.GpuHoldAfterStopMinutes.ToString(CultureInfo.InvariantCulture);
        labels[Labels.GpuWeight] = slots.Sum(s => inventory.FirstOrDefault(x => x.Slot == s)?.Weight ?? 1.0).ToString("0.####", CultureInfo.InvariantCulture);
        labels[Labels.AimeGpus] = joined;
    }

    /// <summary>
    /// A CPU-only container holds nothing, whatever its image or request says: every holding label is written empty
    /// (the image's own would otherwise be merged in), and NVIDIA_VISIBLE_DEVICES=void overrides an image's "all"
    /// (CUDA images set it), as ContainerCreation does for the cmdlets.
    /// </summary>
    private static void ClearGpu(AdmittedCreate admitted)
    {
        var labels = JsonFields.Obj(admitted.Body, "Labels")!;
        foreach (var key in LabelPolicy.HoldingKeys) labels[key] = "";
        var env = new JsonArray();
        foreach (var e in JsonFields.Strings(admitted.Body, "Env"))
            if (!e.StartsWith("NVIDIA_VISIBLE_DEVICES=", StringComparison.Ordinal) && !e.StartsWith("NVIDIA_DEVICES=", StringComparison.Ordinal)) env.Add(e);
        env.Add("NVIDIA_VISIBLE_DEVICES=void");
        JsonFields.Set(admitted.Body, "Env", env);
    }

    /// <summary>A -Wait request as its client asked it: until when, how many GPUs, which slot if one was named.</summary>
    private sealed record WaitRequest(DateTimeOffset Until, int? Count, string? Slot);

    /// <summary>The client's -Wait labels (Labels.GpuWaitUntil, GpuWaitCount, GpuWaitSlot), taken out of the body: no container carries them.</summary>
    private static WaitRequest? TakeWait(JsonObject body)
    {
        if (JsonFields.Obj(body, "Labels") is not { } labels) return null;
        string? Take(string key)
        {
            var node = labels[key];
            labels.Remove(key);
            return node is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
        }
        var until = Take(Labels.GpuWaitUntil);
        var count = Take(Labels.GpuWaitCount);
        var slot = Take(Labels.GpuWaitSlot);
        if (until is null || !DateTimeOffset.TryParse(until, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            return null;
        return new WaitRequest(at,
            int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 64 ? n : null,
            string.IsNullOrEmpty(slot) || slot.Length > 16 ? null : Ds01GpuSlot.NormalizeSlotId(slot));
    }

    private static readonly Regex ImageReference = new(@"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,511}$", RegexOptions.CultureInvariant);

    /// <summary>
    /// The image as dockerd has it: another uid's private image is refused (by name, id or digest), as are images
    /// that carry holding labels; other ds01.* / aime.mlc labels it brings are written empty so only Ds01's count.
    /// An image dockerd does not have is left to dockerd's own "No such image".
    /// </summary>
    private async Task CheckImageAsync(AdmittedCreate admitted, UserIdentity user, CancellationToken ct)
    {
        var image = JsonFields.Str(admitted.Body, "Image") ?? "";
        if (!ImageReference.IsMatch(image) || image.Contains("..", StringComparison.Ordinal))
            throw Deny.BadRequest("InvalidImageName", $"'{image}' is not an image reference.", image, "Name an image as REPOSITORY[:TAG] (Get-Ds01Image lists them).");
        ImageService.DemandImageAccess(image, null, user.Uid);
        var (status, doc) = await _docker.GetJsonAsync($"/images/{image}/json", ct).ConfigureAwait(false);
        using (doc)
        {
            if (status == 404) return;
            if (status != 200 || doc is null || doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new Ds01Exception(Ds01ErrorKind.ConnectionError, "DockerInspectFailed",
                    $"dockerd did not describe the image '{image}' (HTTP {status}), so the create could not be checked.", image,
                    "Try again; if it persists, ask an admin to look at dockerd and ds01d's log.");
            var root = doc.RootElement;
            var tags = root.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array
                ? t.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList() : new List<string>();
            ImageService.DemandImageAccess(image, tags, user.Uid);
            var imageLabels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("Config", out var cfg) && cfg.ValueKind == JsonValueKind.Object &&
                cfg.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
                foreach (var p in l.EnumerateObject()) imageLabels[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.ToString();
            LabelPolicy.RefuseHoldingLabels(imageLabels, image);
            var labels = JsonFields.Obj(admitted.Body, "Labels")!;
            foreach (var key in imageLabels.Keys)
                if (LabelPolicy.IsDs01Key(key) && labels[key] is null) labels[key] = "";
        }
    }

    /// <summary>
    /// The slots the request names must be free in the live holdings and within the caller's quota, checked with the
    /// same allocator the client uses, one slot at a time so each counts against the quota of the next.
    /// </summary>
    private async Task CheckGpuAsync(UserIdentity user, AdmittedCreate admitted, GpuService placement, IReadOnlyList<Ds01GpuSlot> slots,
        IReadOnlyList<string> requested, WaitRequest? wait, int? pid, CancellationToken ct)
    {
        // Every user's containers and ds01d's reservations of creates in flight; this tag's own reservation (a create
        // of the same name that never answered) is replaced by this one.
        var holdings = (await placement.HoldingsAsync(ct).ConfigureAwait(false)).Select(h => h.Holding).Where(h => h.Container != admitted.Tag).ToList();
        var limits = admitted.Limits;
        var queue = placement.Queue;
        try
        {
            CheckSlotsFree(user, admitted, slots, holdings, requested);
            // The line binds for everyone: a waiter ahead that could use what is free now is served first.
            if (placement.WaiterAhead(admitted.Tag, limits.Priority, holdings) is { } ahead)
                throw new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "GpuQueuedAhead",
                    $"A free GPU is promised to a waiting request of priority {ahead.Priority} ({ahead.User}).", admitted.Tag,
                    "Use -Wait to queue for the next one.");
        }
        catch (Ds01Exception e) when (e.Kind == Ds01ErrorKind.ResourceUnavailable && wait is { } w && w.Until > DateTimeOffset.UtcNow)
        {
            // A -Wait request keeps (or takes) its place in ds01d's queue until its deadline, its waiting process ends or
            // it stops asking (GpuQueue.Staleness); its client asks again, and is served when it is first in line. The
            // entry is what the client asked for (a count, or the slot it named); a raw create naming slots is its slot.
            var count = w.Count ?? requested.Count;
            var slot = w.Slot ?? (w.Count is null && requested.Count == 1 ? requested[0] : null);
            // Only a request that finds nothing it could take is waiting. One that names a busy slot while a GPU it may
            // have is free would otherwise hold everyone back from that free GPU without ever taking it.
            if (e.ErrorId != "GpuQueuedAhead" && CouldTakeNow(user, limits, slots, holdings, count, slot)) throw;
            if (queue.List().FirstOrDefault(q => q.Container == admitted.Tag) is { } mine) queue.Touch(mine);
            else
            {
                queue.Prune();
                var deadline = w.Until < DateTimeOffset.UtcNow.AddHours(24) ? w.Until : DateTimeOffset.UtcNow.AddHours(24);
                queue.Enqueue(user.Name, admitted.Tag, count, limits.Priority, deadline, pid, slot, limits.AllowFullGpu);
            }
            throw;
        }
        foreach (var q in queue.List().Where(q => q.Container == admitted.Tag)) queue.Remove(q);
    }

    private static bool CouldTakeNow(UserIdentity user, Core.Configuration.Ds01ResourceLimit limits, IReadOnlyList<Ds01GpuSlot> slots, IReadOnlyList<GpuHolding> holdings, int count, string? slot)
    {
        try
        {
            SlotAllocator.Choose(slots, holdings, new GpuRequest(user.Name, count, slot, limits.GpuLimit, limits.MaxGpusPerContainer, limits.AllowFullGpu));
            return true;
        }
        catch (Ds01Exception) { return false; }
    }

    private static void CheckSlotsFree(UserIdentity user, AdmittedCreate admitted, IReadOnlyList<Ds01GpuSlot> slots, IReadOnlyList<GpuHolding> live, IReadOnlyList<string> requested)
    {
        var holdings = live.ToList();
        var limits = admitted.Limits;
        var used = SlotAllocator.UserWeight(slots, holdings, user.Name);
        var before = holdings.ToList();
        var weight = 0.0;
        // Each slot free (and allowed whole or MIG) by the allocator's own rules; the quota on the whole request below.
        foreach (var slot in requested)
        {
            var chosen = SlotAllocator.Choose(slots, holdings, new GpuRequest(user.Name, 1, slot, null, null, limits.AllowFullGpu));
            weight += chosen.Sum(x => x.Weight);
            holdings.Add(new GpuHolding(admitted.Tag, user.Name, new[] { slot }, GpuHoldingState.Allocated, null));
        }
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        if (limits.MaxGpusPerContainer is { } perContainer && weight > perContainer + SlotAllocator.Epsilon)
            throw new Ds01Exception(Ds01ErrorKind.QuotaExceeded, "GpuPerContainerLimitExceeded",
                $"The container would hold {F(weight)} GPU-equivalents; your limit per container is {F(perContainer)}.", admitted.Tag, "Ask for fewer GPUs.");
        if (limits.GpuLimit is { } limit && used + weight > limit + SlotAllocator.Epsilon)
            throw SlotAllocator.QuotaExceeded(user.Name, $"slot{(requested.Count == 1 ? "" : "s")} {string.Join(", ", requested)}", used, weight, limit, before);
    }

    private static UserIdentity RequireAccount(Caller c) => c.User ?? throw Deny.Forbidden("UnknownAccount",
        $"uid {c.Uid} has no account on this machine.", c.Uid, "Ask an admin to check 'getent passwd'.");

    private static Core.Configuration.ResourceLimitsConfig RequireConfig(Caller c) => c.Config ?? throw new Ds01Exception(Ds01ErrorKind.NotInstalled,
        "ServiceConfigBroken", $"ds01d cannot read its config: {c.ConfigProblem}", null, "Ask an admin to run Test-Ds01Config.");

    // ---------- images ----------

    private static int? ReservedFor(string reference)
    {
        var m = ReservedImage.Match(reference);
        return m.Success && int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null;
    }

    /// <summary>
    /// The caller's image names: anything under ds01-UID/, and the legacy create path's commits, which keep the base
    /// image's repository and take the container's tag (REPO:NAME._.UID, see UserSetupPath) in a repository no other
    /// uid owns.
    /// </summary>
    private static bool IsOwnImageName(string reference, int uid)
    {
        var reserved = ReservedFor(reference);
        if (reserved is not null) return reserved == uid;
        var colon = reference.LastIndexOf(':');
        return colon > reference.LastIndexOf('/') && ContainerNaming.ParseTag(reference[(colon + 1)..]).Uid == uid;
    }

    private static void RequireOwnImageName(string? reference, Caller c, string what)
    {
        if (reference is null || !IsOwnImageName(reference, c.Uid))
            throw Deny.Forbidden("ImageNameNotYours", $"{what} '{reference ?? "(none)"}' is not one of your image names; yours start with 'ds01-{c.Uid}/'.", reference,
                $"Name it ds01-{c.Uid}/PROJECT (Build-Ds01Image does).");
    }

    private static string? WithTag(string? repo, string? tag) => repo is null ? null : string.IsNullOrEmpty(tag) ? repo : $"{repo}:{tag}";

    private async Task<Verdict> ImageAsync(ApiRequest r, Caller c, CancellationToken ct)
    {
        var s = r.Segments;
        if (c.IsAdmin) return Verdict.Pass;
        if (r.Is("POST", "build"))
        {
            var tags = r.QueryValues("t");
            if (tags.Count == 0) RequireOwnImageName(null, c, "The build's tag");
            foreach (var t in tags) RequireOwnImageName(t, c, "The build's tag");
            var network = r.QueryValue("networkmode") ?? "";
            if (network is not ("" or "default" or "bridge" or "none"))
                throw Deny.Forbidden("NetworkModeNotAllowed", $"Building with network '{network}' is not allowed under ds01d.", network, "Leave out --network.");
            return Verdict.Pass;
        }
        if (r.Is("POST", "commit"))
        {
            await OwnerAsync(r.QueryValue("container") ?? "", c, ct).ConfigureAwait(false);
            RequireOwnImageName(WithTag(r.QueryValue("repo"), r.QueryValue("tag")), c, "The commit's name");
            return Verdict.Pass;
        }
        if (r.Is("POST", "images", "create"))
        {
            if (r.QueryValue("fromSrc") is not null) RequireOwnImageName(r.QueryValue("repo"), c, "The import's repository");
            var from = r.QueryValue("fromImage") ?? "";
            var pulledTag = r.QueryValue("tag") ?? "";
            if ((ReservedFor(from) is { } other && other != c.Uid) || (ContainerNaming.ParseTag(pulledTag).Uid is { } tagUid && tagUid != c.Uid))
                RequireOwnImageName(null, c, "The pulled image's name");
            return Verdict.Pass;
        }
        var name = s.Count > 1 ? string.Join('/', s.Skip(1).Take(s.Count - (r.Method == "DELETE" ? 1 : 2))) : "";
        var action = s.Count > 2 ? s[^1] : "";
        if (r.Method == "GET" && s.Count > 2 && action is "json" or "history") return Verdict.Pass;
        if (r.Method == "POST" && action == "tag")
        {
            RequireOwnImageName(WithTag(r.QueryValue("repo"), r.QueryValue("tag")), c, "The new tag");
            return Verdict.Pass;
        }
        if (r.Method == "DELETE" && s.Count > 1)
        {
            if (IsOwnImageName(name, c.Uid)) return Verdict.Pass;
            // By id or another name: only if every name the image has is the caller's.
            var (_, doc) = await _docker.GetJsonAsync($"/images/{name}/json", ct).ConfigureAwait(false);
            using (doc)
            {
                if (doc is null) return Verdict.Pass;
                var tags = doc.RootElement.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array
                    ? t.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : new List<string>();
                if (tags.Count == 0 || tags.Any(x => !IsOwnImageName(x, c.Uid))) RequireOwnImageName(tags.FirstOrDefault(x => !IsOwnImageName(x, c.Uid)) ?? name, c, "The image");
                return Verdict.Pass;
            }
        }
        throw Deny.AdminsOnly(r);
    }
}

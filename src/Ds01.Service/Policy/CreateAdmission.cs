using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ds01.Core;
using Ds01.Core.Configuration;
using Ds01.Core.Containers;
using Ds01.Core.Identity;
using Ds01.Core.Naming;
using Ds01.Service.Binds;
using Ds01.Service.Proxy;
using static Ds01.Service.Policy.JsonFields;

namespace Ds01.Service.Policy;

/// <summary>A containers/create that passed the checks that need no lock: the body to forward and what the lock must re-check.</summary>
internal sealed record AdmittedCreate(JsonObject Body, string Tag, Ds01ResourceLimit Limits, IReadOnlyList<string> GpuDevices)
{
    /// <summary>Where ds01d mounts the checked bind sources (null: the body keeps the user's paths).</summary>
    public string? BindDir { get; init; }
    public IReadOnlyList<BindSource> Binds { get; init; } = Array.Empty<BindSource>();
    /// <summary>The container runs as uid 0 with host directories mounted (allow_sudo): only on idmapped binds.</summary>
    public bool RootWithBinds { get; init; }
}

/// <summary>
/// Admission of containers/create for a non-admin, as an admission controller does: the name and owner labels
/// are the caller's, the limits lie within the caller's resolved quota, nothing reaches the host (privilege,
/// capabilities, devices, host namespaces, binds outside the allowed roots resolved on the host), and the
/// container cannot gain privilege later (no-new-privileges). GPU slots and max_containers are checked under
/// the allocation lock by the caller of this class.
/// </summary>
internal static class CreateAdmission
{
    private static readonly Regex TagPattern = new(@"^/?([a-zA-Z0-9][a-zA-Z0-9_.-]*)\._\.([0-9]+)$", RegexOptions.CultureInvariant);
    // The legacy create path's temporary container: ds01-setup-NAME._.UID-xxxxxxxx.
    private static readonly Regex SetupPattern = Ds01.Core.Images.UserSetupPath.SetupContainerName;
    private static readonly string[] SafeNetworkModes = { "", "default", "bridge", "none" };
    private static readonly string[] SafeRuntimes = { "", "runc", "nvidia" };

    /// <param name="bindDir">ds01d's directory for this container's binds (BindMounter.NewDirectory): bind sources are
    /// rewritten to BINDDIR/N and the checked paths kept in ds01.bind.N labels; null leaves the body's paths.</param>
    public static AdmittedCreate Check(string? name, byte[] rawBody, UserIdentity user, ResourceLimitsConfig config, string? bindDir = null)
    {
        var tag = CheckTag(name, user);
        var body = ParseObject(rawBody, "create");
        var host = Obj(body, "HostConfig");
        if (host is null) { host = new JsonObject(); Set(body, "HostConfig", host); }

        CheckLabels(body, user);
        if (Bool(host, "Privileged"))
            throw Deny.Forbidden("PrivilegedNotAllowed", "A privileged container is not allowed under ds01d (it is root on the host and breaks MIG isolation).", tag,
                "Leave out --privileged; ask an admin for a specific capability instead.");
        var allowedCaps = new HashSet<string>(config.AllowedCapabilities.Select(NormalizeCap), StringComparer.Ordinal);
        foreach (var cap in Strings(host, "CapAdd"))
            if (!allowedCaps.Contains(NormalizeCap(cap)))
                throw Deny.Forbidden("CapabilityNotAllowed", $"The capability '{NormalizeCap(cap)}' is not on this server's list ({(allowedCaps.Count == 0 ? "none" : string.Join(", ", allowedCaps))}).", cap,
                    "Leave out --cap-add, or ask an admin to add it to allowed_capabilities.");
        if (IsSet(host, "Devices") || IsSet(host, "DeviceCgroupRules"))
            throw Deny.Forbidden("DevicesNotAllowed", "Host devices (--device, --device-cgroup-rule) are not allowed under ds01d.", tag,
                "GPUs come through Ds01's allocation (New-Ds01Container -GpuCount).");
        foreach (var ns in new[] { "PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode" })
        {
            var mode = Str(host, ns) ?? "";
            if (mode == "host" || mode.StartsWith("container:", StringComparison.Ordinal))
                throw Deny.Forbidden("HostNamespaceNotAllowed", $"{ns} '{mode}' shares the host's or another container's namespace; that is not allowed under ds01d.", ns,
                    $"Leave out the {ns} option.");
        }
        var network = Str(host, "NetworkMode") ?? "";
        if (!SafeNetworkModes.Contains(network))
            throw Deny.Forbidden("NetworkModeNotAllowed", $"Network mode '{network}' is not allowed under ds01d (only the default bridge or none).", network,
                "Leave out --network.");
        if (IsSet(host, "VolumesFrom") || IsSet(host, "Links") || IsSet(host, "VolumeDriver"))
            throw Deny.Forbidden("VolumesNotAllowed", "Volumes of other containers, links and volume drivers are not allowed under ds01d.", tag,
                "Mount a directory under your allowed roots instead.");
        foreach (var opt in Strings(host, "SecurityOpt"))
            if (!opt.StartsWith("no-new-privileges", StringComparison.Ordinal))
                throw Deny.Forbidden("SecurityOptNotAllowed", $"The security option '{opt}' is not allowed under ds01d.", opt, "Leave out --security-opt.");
        if (Get(host, "MaskedPaths") is not null || Get(host, "ReadonlyPaths") is not null)
            throw Deny.Forbidden("SecurityOptNotAllowed", "Changing the masked or read-only /proc paths is not allowed under ds01d.", tag, "Leave them at Docker's defaults.");
        var runtime = Str(host, "Runtime") ?? "";
        if (!SafeRuntimes.Contains(runtime))
            throw Deny.Forbidden("RuntimeNotAllowed", $"The runtime '{runtime}' is not allowed under ds01d.", runtime, "Leave out --runtime.");
        if (IsSet(host, "GroupAdd"))
            throw Deny.Forbidden("GroupAddNotAllowed", "Extra groups (--group-add) are not allowed under ds01d.", tag, "Leave out --group-add.");

        CheckHostReach(body, host, tag);

        var limits = LimitResolver.Resolve(config, user.Name, user.Groups);
        var binds = CheckMounts(host, user, config, bindDir);
        var hasMounts = binds.Count > 0;
        var root = CheckUser(body, user, hasMounts, limits.AllowSudo && bindDir is not null, tag);
        ApplyLimits(host, limits, tag);
        CheckCgroupParent(host, limits, user, tag);

        // A setuid binary inside the container must not turn the owner into root on their bind mounts.
        var secOpts = Arr(host, "SecurityOpt") ?? new JsonArray();
        if (!Strings(host, "SecurityOpt").Any(o => o.StartsWith("no-new-privileges", StringComparison.Ordinal)))
        {
            secOpts.Add("no-new-privileges:true");
            Set(host, "SecurityOpt", secOpts);
        }
        InjectOwnerLabels(body, user);
        LabelBinds(body, bindDir, binds);
        var gpu = GpuDevices(body, host);
        return new AdmittedCreate(body, tag, limits, gpu) { BindDir = bindDir is null || binds.Count == 0 ? null : bindDir, Binds = binds, RootWithBinds = root };
    }

    private static readonly string[] SafeLogDrivers = { "", "json-file", "local", "none" };
    private static readonly string[] SafeEndpoints = { "", "default", "bridge", "none" };

    /// <summary>What else reaches past the container: privileged host ports, OOM and realtime priority over other users, log drivers that ship elsewhere, other networks.</summary>
    private static void CheckHostReach(JsonObject body, JsonObject host, string tag)
    {
        foreach (var (port, node) in Obj(host, "PortBindings") ?? new JsonObject())
            foreach (var binding in node as JsonArray ?? new JsonArray())
                if (binding is JsonObject b && int.TryParse(Str(b, "HostPort"), NumberStyles.None, CultureInfo.InvariantCulture, out var hostPort) && hostPort is > 0 and < 1024)
                    throw Deny.Forbidden("PrivilegedPortNotAllowed", $"Publishing {port} on host port {hostPort} (below 1024) is not allowed under ds01d.", hostPort,
                        "Publish on a port of 1024 or above (e.g. -p 8888:8888).");
        if (Num(host, "OomScoreAdj") < 0 || Num(host, "CpuRealtimeRuntime") > 0 || Num(host, "CpuRealtimePeriod") > 0)
            throw Deny.Forbidden("PriorityNotAllowed", "A negative OOM score or realtime CPU time would put the container ahead of other users' work; not allowed under ds01d.", tag,
                "Leave out --oom-score-adj and --cpu-rt-runtime.");
        var log = Str(Obj(host, "LogConfig"), "Type") ?? "";
        if (!SafeLogDrivers.Contains(log))
            throw Deny.Forbidden("LogDriverNotAllowed", $"The log driver '{log}' is not allowed under ds01d.", log, "Leave out --log-driver.");
        foreach (var (network, _) in Obj(Obj(body, "NetworkingConfig"), "EndpointsConfig") ?? new JsonObject())
            if (!SafeEndpoints.Contains(network))
                throw Deny.Forbidden("NetworkModeNotAllowed", $"Joining the network '{network}' is not allowed under ds01d (only the default bridge or none).", network,
                    "Leave out --network.");
    }

    private static string NormalizeCap(string cap)
    {
        var c = cap.Trim().ToUpperInvariant();
        return c.StartsWith("CAP_", StringComparison.Ordinal) ? c[4..] : c;
    }

    private static string CheckTag(string? name, UserIdentity user)
    {
        var m = name is null ? Match.Empty : SetupPattern.Match(name) is { Success: true } setup ? setup : TagPattern.Match(name);
        if (!m.Success)
            throw Deny.Forbidden("ContainerNameRequired", $"Under ds01d a container's name must end in '._.{user.Uid}' (yours is {(name is null ? "missing" : $"'{name}'")}).", name,
                $"Use New-Ds01Container, or docker run --name NAME._.{user.Uid}.");
        if (m.Groups[2].Value != user.Uid.ToString(CultureInfo.InvariantCulture))
            throw Deny.Forbidden("TagNotYours", $"The name '{name}' carries uid {m.Groups[2].Value}, but you are uid {user.Uid} ('{user.Name}').", name,
                $"Name it NAME._.{user.Uid}.");
        return name!.TrimStart('/');
    }

    private static void CheckLabels(JsonObject body, UserIdentity user)
    {
        var labels = Obj(body, "Labels");
        if (labels is null) return;
        void Expect(string key, string value)
        {
            if (labels[key] is { } node && (node is not JsonValue v || !v.TryGetValue<string>(out var s) || s != value))
                throw Deny.Forbidden("LabelNotYours", $"The label {key}='{node}' does not name you ('{value}').", key,
                    "Leave out owner labels; ds01d sets them to you.");
        }
        foreach (var key in new[] { Labels.User, Labels.AimeUser, Labels.Aime }) Expect(key, user.Name);
        Expect(Labels.UserId, user.Uid.ToString(CultureInfo.InvariantCulture));
        Expect(Labels.GroupId, user.Gid.ToString(CultureInfo.InvariantCulture));
        Expect(Labels.Username, user.SanitizedName);
    }

    private static void InjectOwnerLabels(JsonObject body, UserIdentity user)
    {
        var labels = Obj(body, "Labels");
        if (labels is null) { labels = new JsonObject(); Set(body, "Labels", labels); }
        labels[Labels.User] ??= user.Name;
        labels[Labels.UserId] ??= user.Uid.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Every bind and bind mount must resolve, on the host, under the caller's allowed roots; named volumes are for
    /// admins. With a bind directory, each source becomes BINDDIR/N, where ds01d mounts the directory it opened
    /// without links (BindMounter), so what Docker mounts is what was checked. Those are always handed to Docker as
    /// Mounts of type bind, never as Binds: for a missing Binds source dockerd makes an empty root-owned directory
    /// and starts the container on it, which is what a restart policy would do after a reboot, before ds01d has
    /// mounted BINDDIR/N again (/run is emptied). A missing Mounts source fails the start instead, and a start
    /// through ds01d mounts it first (RequestPolicy.EnsureBindsAsync).
    /// </summary>
    private static List<BindSource> CheckMounts(JsonObject host, UserIdentity user, ResourceLimitsConfig config, string? bindDir)
    {
        var policy = new MountPolicy(config);
        var binds = new List<BindSource>();
        var converted = new List<JsonObject>();
        if (Arr(host, "Binds") is { } bindList)
        {
            for (var i = 0; i < bindList.Count; i++)
            {
                var bind = bindList[i] is JsonValue v && v.TryGetValue<string>(out var text) ? text
                    : throw Deny.BadRequest("InvalidRequestField", "'Binds' must be a list of strings.", "Binds");
                var parts = bind.Split(':');
                var source = parts[0];
                if (!source.StartsWith('/'))
                    throw Deny.Forbidden("VolumesNotAllowed", $"The named volume '{source}' is not allowed under ds01d (volumes are for admins).", source,
                        "Bind a directory under your allowed roots instead.");
                var real = policy.Check(source, user, "bind source");
                var options = parts.Length > 2 ? parts[2].Split(',') : Array.Empty<string>();
                var readOnly = options.Contains("ro");
                var index = binds.Count;
                binds.Add(new BindSource(index, real, readOnly));
                if (bindDir is not null) converted.Add(BindAsMount(bind, parts, options, BindMounter.Target(bindDir, index), readOnly));
            }
            if (bindDir is not null) Set(host, "Binds", new JsonArray());
        }
        foreach (var node in Arr(host, "Mounts") ?? new JsonArray())
        {
            if (node is not JsonObject mount) throw Deny.BadRequest("InvalidRequestField", "'Mounts' must be a list of objects.", "Mounts");
            var type = Str(mount, "Type") ?? "volume";
            if (type == "tmpfs") continue;
            if (type != "bind")
                throw Deny.Forbidden("VolumesNotAllowed", $"A mount of type '{type}' is not allowed under ds01d.", type, "Use a bind of a directory under your allowed roots.");
            var source = Str(mount, "Source") ?? "";
            var real = policy.Check(source, user, "mount source");
            var index = binds.Count;
            binds.Add(new BindSource(index, real, Bool(mount, "ReadOnly")));
            if (bindDir is not null) Set(mount, "Source", BindMounter.Target(bindDir, index));
        }
        if (converted.Count > 0)
        {
            if (Arr(host, "Mounts") is not { } mounts) Set(host, "Mounts", mounts = new JsonArray());
            for (var i = 0; i < converted.Count; i++) mounts.Insert(i, converted[i]);
        }
        return binds;
    }

    private static readonly string[] Propagations = { "private", "rprivate", "shared", "rshared", "slave", "rslave" };

    /// <summary>"SRC:DST[:OPTIONS]" as the Mounts entry for ds01d's BINDDIR/N; options a bind mount cannot carry are refused, not dropped.</summary>
    private static JsonObject BindAsMount(string bind, string[] parts, string[] options, string target, bool readOnly)
    {
        if (parts.Length is < 2 or > 3 || parts[1].Length == 0 || !parts[1].StartsWith('/'))
            throw Deny.BadRequest("InvalidBind", $"The bind '{bind}' is not SOURCE:TARGET[:OPTIONS] with an absolute target.", bind,
                "Write it as /host/dir:/container/dir, optionally with :ro.");
        var propagation = options.Where(o => Propagations.Contains(o)).ToList();
        var unknown = options.Where(o => o is not ("ro" or "rw") && !Propagations.Contains(o)).ToList();
        if (unknown.Count > 0 || propagation.Count > 1 || (options.Contains("ro") && options.Contains("rw")))
            throw Deny.BadRequest("BindOptionNotSupported",
                $"The bind '{bind}' has options ds01d cannot pass on ({string.Join(",", unknown.Count > 0 ? unknown : options)}); it accepts ro or rw and one propagation mode.", bind,
                "Leave out SELinux relabelling (z, Z) and volume options (nocopy); use ro or rw.");
        var mount = new JsonObject { ["Type"] = "bind", ["Source"] = target, ["Target"] = parts[1], ["ReadOnly"] = readOnly };
        if (propagation.Count == 1) mount["BindOptions"] = new JsonObject { ["Propagation"] = propagation[0] };
        return mount;
    }

    /// <summary>ds01.bind.N (the checked host path) and ds01.bind_dir come from ds01d alone: whatever the request says is dropped.</summary>
    private static void LabelBinds(JsonObject body, string? bindDir, IReadOnlyList<BindSource> binds)
    {
        var labels = Obj(body, "Labels")!;
        foreach (var key in labels.Select(p => p.Key).Where(k => k == Labels.BindDir || k.StartsWith(Labels.BindPrefix, StringComparison.Ordinal)).ToList())
            labels.Remove(key);
        if (bindDir is null || binds.Count == 0) return;
        labels[Labels.BindDir] = bindDir;
        foreach (var b in binds) labels[Labels.BindPrefix + b.Index.ToString(CultureInfo.InvariantCulture)] = b.Path;
    }

    /// <summary>With host directories mounted, the container must run as the caller, so files it writes there are theirs.</summary>
    /// <returns>true when the container runs as root with binds, which <paramref name="rootAllowed"/> (allow_sudo, binds through ds01d) permits only on idmapped binds.</returns>
    private static bool CheckUser(JsonObject body, UserIdentity user, bool hasMounts, bool rootAllowed, string tag)
    {
        if (!hasMounts) return false;
        var u = (Str(body, "User") ?? "").Trim();
        var parts = u.Split(':');
        if (rootAllowed && parts.Length <= 2 && parts[0] is "0" or "root" && (parts.Length == 1 || parts[1] is "0" or "root")) return true;
        var uidOk = parts[0] == user.Uid.ToString(CultureInfo.InvariantCulture) || parts[0] == user.Name;
        var gidOk = parts.Length == 1 || parts[1] == user.Gid.ToString(CultureInfo.InvariantCulture);
        if (!uidOk || !gidOk || parts.Length > 2)
            throw Deny.Forbidden("ContainerUserNotYours", $"A container with host directories mounted must run as you ({user.Uid}:{user.Gid}), not as '{(u.Length == 0 ? "the image's user" : u)}'.", tag,
                $"Pass --user {user.Uid}:{user.Gid} (New-Ds01Container does).");
        return false;
    }

    /// <summary>A limit the request leaves out becomes the quota (as a mutating admission controller would); one above it is refused.</summary>
    private static void ApplyLimits(JsonObject host, Ds01ResourceLimit limits, string tag)
    {
        if (limits.CpuLimit is { } quotaCpu && Num(host, "NanoCpus") == 0 && Num(host, "CpuQuota") == 0)
            // dockerd refuses more CPUs than the host has (ContainerService clamps the same way).
            Set(host, "NanoCpus", (long)Math.Round(Math.Min(quotaCpu, Environment.ProcessorCount) * 1e9));
        if (limits.MemoryLimitBytes is { } quotaMem && Num(host, "Memory") == 0)
        {
            Set(host, "Memory", quotaMem);
            if (Num(host, "MemorySwap") == 0) Set(host, "MemorySwap", quotaMem);
        }
        if (limits.PidsLimit is { } quotaPids && Num(host, "PidsLimit") <= 0) Set(host, "PidsLimit", quotaPids);
        Ds01Exception Over(string what, string asked, string quota) => new(Ds01ErrorKind.QuotaExceeded, "ResourceLimitExceeded",
            $"{what} {asked} is over your quota of {quota}.", tag, "Ask for no more than your quota (Get-Ds01ResourceLimit shows it); New-Ds01Container sets it for you.");
        if (limits.CpuLimit is { } cpu)
        {
            var nano = Num(host, "NanoCpus");
            var quota = Num(host, "CpuQuota");
            var period = Num(host, "CpuPeriod");
            var asked = nano > 0 ? nano / 1e9 : quota > 0 ? quota / (double)(period > 0 ? period : 100_000) : double.PositiveInfinity;
            if (asked > cpu + 1e-6) throw Over("CPU", double.IsInfinity(asked) ? "unlimited" : asked.ToString("0.##", CultureInfo.InvariantCulture), cpu.ToString("0.##", CultureInfo.InvariantCulture));
        }
        if (limits.MemoryLimitBytes is { } mem)
        {
            var asked = Num(host, "Memory");
            if (asked <= 0 || asked > mem) throw Over("Memory", asked <= 0 ? "unlimited" : ByteText(asked), ByteText(mem));
            var swap = Num(host, "MemorySwap");
            if (swap != 0 && swap != asked) throw Over("Memory plus swap", swap < 0 ? "unlimited" : ByteText(swap), ByteText(asked) + " (no swap)");
        }
        if (limits.ShmSizeBytes is { } shm && Num(host, "ShmSize") is var askedShm && askedShm > shm)
            throw Over("Shared memory", ByteText(askedShm), ByteText(shm));
        if (limits.PidsLimit is { } pids)
        {
            var asked = Num(host, "PidsLimit");
            if (asked <= 0 || asked > pids) throw Over("Process limit", asked <= 0 ? "unlimited" : asked.ToString(CultureInfo.InvariantCulture), pids.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static string ByteText(long bytes) => bytes % (1L << 30) == 0 ? $"{bytes >> 30}G" : bytes % (1L << 20) == 0 ? $"{bytes >> 20}M" : $"{bytes} bytes";

    /// <summary>The cgroup parent, when set, must be the caller's own slice (the name New-Ds01Container gives it, in ContainerService).</summary>
    private static void CheckCgroupParent(JsonObject host, Ds01ResourceLimit limits, UserIdentity user, string tag)
    {
        var parent = Str(host, "CgroupParent") ?? "";
        if (parent.Length == 0) return;
        var group = (limits.Group ?? "default").Replace('-', '_');
        var expected = $"ds01-{group}-{user.SanitizedName.Replace('-', '_')}.slice";
        if (parent != expected)
            throw Deny.Forbidden("CgroupParentNotYours", $"The cgroup parent '{parent}' is not your slice ('{expected}').", parent, "Leave out --cgroup-parent.");
    }

    /// <summary>GPU devices the container would get: DeviceRequests, NVIDIA_VISIBLE_DEVICES / NVIDIA_DEVICES, or Ds01's slot label ("all" or a count means every GPU).</summary>
    private static IReadOnlyList<string> GpuDevices(JsonObject body, JsonObject host)
    {
        var devices = new List<string>();
        foreach (var node in Arr(host, "DeviceRequests") ?? new JsonArray())
        {
            if (node is not JsonObject r) throw Deny.BadRequest("InvalidRequestField", "'DeviceRequests' must be a list of objects.", "DeviceRequests");
            var driver = Str(r, "Driver") ?? "";
            if (driver is not ("" or "nvidia"))
                throw Deny.Forbidden("DevicesNotAllowed", $"The device driver '{driver}' is not allowed under ds01d.", driver, "Ask for GPUs with New-Ds01Container -GpuCount.");
            var ids = Strings(r, "DeviceIDs");
            if (ids.Count > 0) devices.AddRange(ids);
            else if (Num(r, "Count") != 0) devices.Add("all");
        }
        foreach (var env in Strings(body, "Env"))
        {
            foreach (var prefix in new[] { "NVIDIA_VISIBLE_DEVICES=", "NVIDIA_DEVICES=" })
            {
                if (!env.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var v = env[prefix.Length..].Trim();
                if (v is "" or "none" or "void") continue;
                devices.AddRange(v.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0));
            }
        }
        if (Obj(body, "Labels") is { } labels && labels[Labels.GpuSlots] is JsonValue slotLabel && slotLabel.TryGetValue<string>(out var slots))
            devices.AddRange(slots.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0));
        return devices.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}

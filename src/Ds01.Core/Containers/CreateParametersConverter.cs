using System.Globalization;
using Docker.DotNet.Models;
using Ds01.Core.Configuration;
using Ds01.Core.Identity;
using Ds01.Core.Naming;

namespace Ds01.Core.Containers;

/// <summary>Everything the create parameters are made from, decided before Docker is asked.</summary>
/// <param name="Image">The image the container runs (the legacy commit on AIME's slow path).</param>
/// <param name="RequestedImage">The image the user asked for, shown back to them in labels.</param>
public sealed record CreateSpec(string Name, string Tag, string Project, string Image, string RequestedImage, UserIdentity Owner,
    Ds01ResourceLimit Limits, string Workspace, string? DataPath, string Interface, IReadOnlyDictionary<string, long> Ulimits,
    DateTimeOffset CreatedAt);

/// <summary>
/// The AIME-compatible Docker create parameters of a container: tag, both label schemas, UID:GID, the
/// /workspace and /data binds, ulimits and all limits fixed at create time. Pure: the same spec gives the same
/// parameters, so it is tested without Docker.
/// </summary>
public static class CreateParametersConverter
{
    public static CreateContainerParameters Convert(CreateSpec spec)
    {
        var owner = spec.Owner;
        var limits = spec.Limits;
        var labels = new Dictionary<string, string>
        {
            [Labels.Aime] = owner.Name,
            [Labels.AimeName] = spec.Name,
            [Labels.AimeUser] = owner.Name,
            [Labels.AimeVersion] = "3",
            [Labels.AimeFramework] = "custom",
            [Labels.AimeWorkMount] = spec.Workspace,
            [Labels.AimeDataMount] = spec.DataPath ?? "",
            [Labels.AimeDs01Managed] = "true",
            [Labels.AimeCustomImage] = spec.RequestedImage,
            [Labels.AimeGpus] = "0",
            [Labels.Managed] = "true",
            [Labels.User] = owner.Name,
            [Labels.UserId] = owner.Uid.ToString(CultureInfo.InvariantCulture),
            [Labels.GroupId] = owner.Gid.ToString(CultureInfo.InvariantCulture),
            [Labels.Username] = owner.SanitizedName,
            [Labels.Name] = spec.Name,
            [Labels.Project] = spec.Project,
            [Labels.Group] = limits.Group ?? "",
            [Labels.CreatedAt] = spec.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            [Labels.Interface] = spec.Interface,
            [Labels.CustomImage] = spec.RequestedImage,
            [Labels.WorkMount] = spec.Workspace,
        };
        if (spec.DataPath is not null) labels[Labels.DataMount] = spec.DataPath;

        var binds = new List<string> { $"{spec.Workspace}:/workspace" };
        if (spec.DataPath is not null) binds.Add($"{spec.DataPath}:/data");
        var host = new HostConfig
        {
            Binds = binds,
            Init = true,
            Privileged = false, // never: it breaks MIG isolation and hands out the host
            // Without sudo nothing inside may gain privileges (setuid programs included), so there is no root inside
            // to leave a setuid-root file in the bind-mounted workspace for the host.
            SecurityOpt = limits.AllowSudo ? new List<string>() : new List<string> { "no-new-privileges" },
            Ulimits = spec.Ulimits.Select(u => new Ulimit { Name = u.Key, Soft = u.Value, Hard = u.Value }).ToList(),
        };
        if (limits.CpuLimit is { } cpu) host.NanoCPUs = (long)Math.Round(cpu * 1e9);
        if (limits.MemoryLimitBytes is { } mem) { host.Memory = mem; host.MemorySwap = mem; }
        if (limits.ShmSizeBytes is { } shm) host.ShmSize = shm;
        if (limits.PidsLimit is { } pids) host.PidsLimit = pids;

        return new CreateContainerParameters
        {
            Name = spec.Tag,
            Image = spec.Image,
            // AIME's -it: a TTY and open stdin keep the image's default shell alive.
            Tty = true,
            OpenStdin = true,
            User = $"{owner.Uid}:{owner.Gid}",
            WorkingDir = "/workspace",
            Labels = labels,
            Env = new List<string> { $"DS01_CONTAINER={spec.Name}", $"DS01_USER={owner.Name}" },
            HostConfig = host,
        };
    }

    /// <summary>
    /// Fits the parameters to this host: a CPU limit above the host's count means "all of them" (Docker refuses
    /// more), and the cgroup slice only when Docker's cgroup driver is systemd. Returns what it did, for -Verbose.
    /// </summary>
    public static IReadOnlyList<string> FitToHost(CreateContainerParameters p, SystemInfoResponse info, Ds01ResourceLimit limits, UserIdentity owner)
    {
        var notes = new List<string>();
        p.HostConfig ??= new HostConfig();
        if (info.NCPU > 0 && p.HostConfig.NanoCPUs > info.NCPU * 1_000_000_000L)
        {
            notes.Add($"cpu_limit {p.HostConfig.NanoCPUs / 1e9:0.##} is more than this host's {info.NCPU} CPUs; using {info.NCPU}.");
            p.HostConfig.NanoCPUs = info.NCPU * 1_000_000_000L;
        }
        if (!string.Equals(info.CgroupDriver, "systemd", StringComparison.OrdinalIgnoreCase))
        {
            notes.Add($"No cgroup slice: Docker's cgroup driver is '{info.CgroupDriver}', not systemd; limits still apply per container.");
            return notes;
        }
        // '-' nests in systemd slice names, so the user part uses '_' to stay one level below the group.
        var group = (limits.Group ?? "default").Replace('-', '_');
        var slice = $"ds01-{group}-{owner.SanitizedName.Replace('-', '_')}.slice";
        p.HostConfig.CgroupParent = slice;
        p.Labels[Labels.Slice] = slice;
        notes.Add($"Cgroup parent {slice}.");
        return notes;
    }
}

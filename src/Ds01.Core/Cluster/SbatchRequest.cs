using System.Globalization;
using Ds01.Core.Configuration;
using Ds01.Core.Identity;

namespace Ds01.Core.Cluster;

/// <summary>
/// The sbatch call for one container's lifetime: GRES from the request, CPUs, memory and time limit from the owner's
/// resolved limits, the QOS from their priority. Every value is one argument of its own (no shell, no --wrap); the
/// batch script is a fixed text that only holds the allocation, so nothing a user types reaches a script.
/// </summary>
public sealed class SbatchRequest
{
    /// <summary>The job's only work is to hold its allocation; the container is the workload, and the Epilog removes it.</summary>
    public const string Script = "#!/bin/sh\n# Ds01: this job holds the allocation of one container; the Epilog removes the container.\nexec sleep infinity\n";

    public required string ContainerTag { get; init; }
    public required string Partition { get; init; }
    public string? Account { get; init; }
    /// <summary>GRES type (h100, 3g.40gb) or null for any GPU.</summary>
    public string? GpuType { get; init; }
    public int GpuCount { get; init; }
    public int Cpus { get; init; } = 1;
    public long? MemoryMiB { get; init; }
    public int? TimeLimitMinutes { get; init; }
    public string? Qos { get; init; }
    /// <summary>Root submitting for another user (an admin's -User): the job runs as that account.</summary>
    public UserIdentity? RunAs { get; init; }

    public static SbatchRequest For(ClusterConfig cluster, string tag, Ds01ResourceLimit limits, int gpuCount, string? gpuType, UserIdentity? runAs)
    {
        if (gpuType is not null && !IsGresType(gpuType))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGpuType",
                $"'{gpuType}' is not a GPU type (a Slurm GRES type such as h100 or 3g.40gb).", gpuType,
                "Name a type the cluster's gres.conf lists (sinfo -o '%N %G'), or leave out -Gpu.");
        return new SbatchRequest
        {
            ContainerTag = tag,
            Partition = cluster.Partition ?? throw new Ds01Exception(Ds01ErrorKind.InvalidData, "ClusterPartitionMissing",
                $"{cluster.File} has no slurm.partition.", cluster.File, "Add slurm.partition to cluster.yaml."),
            Account = cluster.Account,
            GpuType = gpuType,
            GpuCount = gpuCount,
            Cpus = limits.CpuLimit is { } c ? Math.Max(1, (int)Math.Ceiling(c)) : 1,
            MemoryMiB = limits.MemoryLimitBytes is { } m ? Math.Max(1, (m + (1 << 20) - 1) >> 20) : null,
            TimeLimitMinutes = limits.MaxRuntimeHours is { } h ? Math.Max(1, (int)Math.Ceiling(h * 60)) : null,
            Qos = cluster.QosFor(limits.Priority),
            RunAs = runAs,
        };
    }

    /// <summary>GRES types as gres.conf spells them: letters, digits, '.', '_' and '-', starting with a letter or digit.</summary>
    public static bool IsGresType(string s) =>
        s.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    public string Gres => GpuCount <= 0 ? "" : GpuType is null ? $"gpu:{GpuCount}" : $"gpu:{GpuType}:{GpuCount}";

    public IReadOnlyList<string> Arguments()
    {
        var args = new List<string>
        {
            "--parsable",
            $"--job-name=ds01:{ContainerTag}",
            $"--comment=ds01 container {ContainerTag}",
            $"--partition={Partition}",
            "--nodes=1", "--ntasks=1",
            $"--cpus-per-task={Cpus.ToString(CultureInfo.InvariantCulture)}",
            "--output=/dev/null", "--error=/dev/null",
            "--chdir=/",
            // The job needs nothing from the submitter's environment, and must not carry it to the node.
            "--export=NONE",
        };
        if (Account is not null) args.Add($"--account={Account}");
        if (GpuCount > 0) args.Add($"--gres={Gres}");
        if (MemoryMiB is { } mem) args.Add($"--mem={mem.ToString(CultureInfo.InvariantCulture)}M");
        if (TimeLimitMinutes is { } t) args.Add($"--time={t.ToString(CultureInfo.InvariantCulture)}");
        if (Qos is not null) args.Add($"--qos={Qos}");
        if (RunAs is not null)
        {
            args.Add($"--uid={RunAs.Uid.ToString(CultureInfo.InvariantCulture)}");
            args.Add($"--gid={RunAs.Gid.ToString(CultureInfo.InvariantCulture)}");
        }
        return args;
    }
}

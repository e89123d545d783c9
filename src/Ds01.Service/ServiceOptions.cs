using Ds01.Core;

namespace Ds01.Service;

/// <summary>What `ds01d run` was told on its command line; nothing here comes from a caller.</summary>
internal sealed class ServiceOptions
{
    public const string DefaultSocket = "/run/ds01/docker.sock";

    public string Socket { get; init; } = DefaultSocket;
    public string Docker { get; init; } = "unix:///var/run/docker.sock";
    public Ds01Paths Paths { get; init; } = new("/etc/ds01", "/var/lib/ds01", "/var/log/ds01");
    /// <summary>host:port of the optional status listener (/metrics and the status page); loopback only; null = off.</summary>
    public string? StatusListen { get; init; }
    /// <summary>Where ds01d mounts the bind sources it checked (BindMounter); root's, nothing above it user-writable.</summary>
    public string Binds { get; init; } = DefaultBinds;
    public const string DefaultBinds = "/run/ds01/binds";
    /// <summary>
    /// This node's name in Slurm (--slurm-node; default the short host name, as slurmd takes it). With cluster.yaml's
    /// backend: slurm, a user's create is admitted only for their running job on this node (Policy/ClusterAdmission.cs).
    /// </summary>
    public string SlurmNode { get; init; } = DefaultSlurmNode();

    public static string DefaultSlurmNode()
    {
        var host = Environment.MachineName;
        var dot = host.IndexOf('.');
        return dot > 0 ? host[..dot] : host;
    }
}

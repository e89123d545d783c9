namespace Ds01.Core.Cluster;

/// <summary>Labels of a container that runs for a Slurm job; config/slurm/epilog removes containers by the job label.</summary>
public static class ClusterLabels
{
    public const string Job = "ds01.slurm.job";
    public const string Cluster = "ds01.slurm.cluster";
    public const string Node = "ds01.node";
    /// <summary>The GRES the job holds ("gpu:h100:1"), as Slurm counts it against GrpTRES.</summary>
    public const string Gres = "ds01.slurm.gres";

    public static long? JobOf(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(Job, out var v) && long.TryParse(v, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
}

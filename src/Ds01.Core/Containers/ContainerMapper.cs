using System.Globalization;
using Docker.DotNet.Models;
using Ds01.Core.Naming;

namespace Ds01.Core.Containers;

/// <summary>
/// Docker's list and inspect answers → Ds01Container; ds01.* labels first, then aime.mlc.*. Times are Docker's
/// exact ones or none: a list answer carries a stop time only as rounded text ("Exited (0) About an hour ago"),
/// so a listed container has no StoppedAt or GpuHoldExpiresAt until it is inspected.
/// </summary>
public static class ContainerMapper
{
    public static Ds01Container FromList(ContainerListResponse c, DateTimeOffset now)
    {
        var tag = c.Names?.FirstOrDefault()?.TrimStart('/') ?? c.ID;
        var state = DockerStatus.State(c.State);
        var (started, _) = DockerStatus.Times(c.Status, now);
        return Build(tag, c.ID, c.Image, c.Labels, state, new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)),
            started, null, now, c.Status ?? "");
    }

    public static Ds01Container FromInspect(ContainerInspectResponse c, DateTimeOffset now)
    {
        var tag = c.Name?.TrimStart('/') ?? c.ID;
        var s = c.State;
        var state = s is null ? ContainerState.Stopped
            : s.Paused ? ContainerState.Paused
            : s.Running || s.Restarting ? ContainerState.Running
            : s.Status == "created" ? ContainerState.Created
            : ContainerState.Stopped;
        var started = ParseTime(s?.StartedAt);
        var stopped = state == ContainerState.Stopped ? ParseTime(s?.FinishedAt) : null;
        return Build(tag, c.ID, c.Config?.Image ?? c.Image, c.Config?.Labels, state, new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)),
            state is ContainerState.Running or ContainerState.Paused ? started : null, stopped, now, s?.Status ?? "");
    }

    /// <summary>Docker's zero time ("0001-01-01T00:00:00Z") means never.</summary>
    public static DateTimeOffset? ParseTime(string? text)
    {
        if (string.IsNullOrEmpty(text) || text!.StartsWith("0001-", StringComparison.Ordinal)) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
    }

    private static Ds01Container Build(string tag, string id, string image, IDictionary<string, string>? labels,
        ContainerState state, DateTimeOffset created, DateTimeOffset? started, DateTimeOffset? stopped, DateTimeOffset now, string status)
    {
        labels ??= new Dictionary<string, string>();
        var (parsedName, uid) = ContainerNaming.ParseTag(tag);
        string? L(string key) => labels.TryGetValue(key, out var v) && !string.IsNullOrEmpty(v) ? v : null;
        var name = L(Labels.Name) ?? L(Labels.AimeName) ?? parsedName;
        DateTimeOffset? holdEnds = null;
        if (state == ContainerState.Stopped && stopped is { } at && L(Labels.GpuSlots) is not null)
            holdEnds = at.AddMinutes(Labels.HoldMinutes(labels));
        if (uid is null && int.TryParse(L(Labels.UserId), out var labelUid)) uid = labelUid;
        return new Ds01Container
        {
            Name = name,
            Tag = tag,
            Id = id,
            User = Labels.Owner(labels),
            Uid = uid,
            Group = L(Labels.Group),
            Project = L(Labels.Project),
            // The image the user asked for (a legacy create runs a per-container commit of it).
            Image = L(Labels.CustomImage) ?? image,
            State = state,
            Gpu = L(Labels.GpuSlots) ?? "",
            GpuUuids = L(Labels.GpuUuids) ?? "",
            GpuHoldExpiresAt = holdEnds,
            CreatedAt = created,
            StartedAt = started,
            StoppedAt = stopped,
            Uptime = state == ContainerState.Running && started is { } s ? now - s : null,
            Framework = L(Labels.Framework) ?? L(Labels.AimeFramework),
            Workspace = L(Labels.WorkMount) ?? L(Labels.AimeWorkMount),
            IsDs01Managed = L(Labels.Managed) == "true",
            Status = status,
            Node = L(Cluster.ClusterLabels.Node),
        };
    }
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Ds01.Core.Containers;

/// <summary>
/// Reads times out of Docker's list Status text ("Up 2 hours", "Exited (0) 3 minutes ago"), so a listing
/// needs one list call and no inspect per container. Precision is Docker's own rounding.
/// </summary>
public static partial class DockerStatus
{
    // Source-generated: no regex parser or interpreter to start in a cold `ds01 container-list`.
    [GeneratedRegex(@"^Up (.+?)(?: \((?:Paused|healthy|unhealthy|health: starting)\))*$", RegexOptions.CultureInvariant)]
    private static partial Regex Up();

    [GeneratedRegex(@"^Exited \(-?\d+\) (.+) ago$", RegexOptions.CultureInvariant)]
    private static partial Regex Exited();

    [GeneratedRegex(@"^(\d+) (second|minute|hour|day|week|month|year)s?$", RegexOptions.CultureInvariant)]
    private static partial Regex HumanDuration();

    public static (DateTimeOffset? Started, DateTimeOffset? Stopped) Times(string? status, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(status)) return (null, null);
        var m = Up().Match(status!);
        if (m.Success && Duration(m.Groups[1].Value) is { } up) return (now - up, null);
        m = Exited().Match(status!);
        if (m.Success && Duration(m.Groups[1].Value) is { } ago) return (null, now - ago);
        return (null, null);
    }

    /// <summary>Inverse of Docker's units.HumanDuration.</summary>
    public static TimeSpan? Duration(string text)
    {
        text = text.Trim();
        switch (text)
        {
            case "Less than a second": return TimeSpan.Zero;
            case "About a minute": return TimeSpan.FromMinutes(1);
            case "About an hour": return TimeSpan.FromHours(1);
        }
        var m = HumanDuration().Match(text);
        if (!m.Success) return null;
        if (!int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 100_000) return null;
        return m.Groups[2].Value switch
        {
            "second" => TimeSpan.FromSeconds(n),
            "minute" => TimeSpan.FromMinutes(n),
            "hour" => TimeSpan.FromHours(n),
            "day" => TimeSpan.FromDays(n),
            "week" => TimeSpan.FromDays(7 * n),
            "month" => TimeSpan.FromDays(30 * n),
            _ => TimeSpan.FromDays(365 * n),
        };
    }

    public static ContainerState State(string? dockerState) => dockerState switch
    {
        "created" => ContainerState.Created,
        "running" or "restarting" => ContainerState.Running,
        "paused" => ContainerState.Paused,
        _ => ContainerState.Stopped,
    };
}

namespace Ds01.Core.Configuration;

/// <summary>Field-by-field resolution: user, then group, then defaults, then the built-in fallback.</summary>
public static class LimitResolver
{
    /// <summary>
    /// The user's group: users.u.group, else a group listing u as a member (highest priority wins),
    /// else an OS group named like a configured group, else default_group.
    /// </summary>
    public static string? GroupOf(ResourceLimitsConfig config, string user, IEnumerable<string> osGroups)
    {
        if (config.Users.TryGetValue(user, out var u) && u.Group is not null) return u.Group;
        var listed = config.Groups.Values.Where(g => g.Members.Contains(user, StringComparer.Ordinal)).ToList();
        if (listed.Count > 0) return listed.OrderByDescending(PriorityOf).First().Name;
        var os = osGroups.Where(config.Groups.ContainsKey).Select(n => config.Groups[n]).ToList();
        if (os.Count > 0) return os.OrderByDescending(PriorityOf).First().Name;
        return config.DefaultGroup;
    }

    private static long PriorityOf(GroupConfig g) =>
        g.Limits.TryGet(LimitField.Priority, out var p) && p is long l ? l : 0;

    public static Ds01ResourceLimit Resolve(ResourceLimitsConfig config, string user, IEnumerable<string> osGroups)
    {
        var group = GroupOf(config, user, osGroups);
        config.Users.TryGetValue(user, out var userConfig);
        GroupConfig? groupConfig = group is null ? null : config.Groups.GetValueOrDefault(group);

        var values = new Dictionary<string, object?>();
        var sources = new Dictionary<string, string>();
        foreach (var field in LimitField.All)
        {
            if (userConfig is not null && userConfig.Limits.TryGet(field.Key, out var v)) { values[field.Key] = v; sources[field.Key] = "user"; }
            else if (groupConfig is not null && groupConfig.Limits.TryGet(field.Key, out v)) { values[field.Key] = v; sources[field.Key] = "group:" + groupConfig.Name; }
            else if (config.Defaults.TryGet(field.Key, out v)) { values[field.Key] = v; sources[field.Key] = "defaults"; }
            else { values[field.Key] = field.Builtin; sources[field.Key] = "builtin"; }
        }

        return new Ds01ResourceLimit
        {
            User = user,
            Group = group,
            Priority = (int)(long)values[LimitField.Priority]!,
            GpuLimit = Num(values[LimitField.GpuLimit]),
            MaxGpusPerContainer = Num(values[LimitField.MaxGpusPerContainer]),
            AllowFullGpu = (bool)values[LimitField.AllowFullGpu]!,
            CpuLimit = Num(values[LimitField.CpuLimit]),
            MemoryLimitBytes = (long?)values[LimitField.MemoryLimit],
            ShmSizeBytes = (long?)values[LimitField.ShmSize],
            PidsLimit = (long?)values[LimitField.PidsLimit],
            MaxContainers = values[LimitField.MaxContainers] is long mc ? (int)mc : null,
            MaxRuntimeHours = Num(values[LimitField.MaxRuntimeHours]),
            IdleTimeoutHours = Num(values[LimitField.IdleTimeoutHours]),
            GpuHoldAfterStopMinutes = Num(values[LimitField.GpuHoldAfterStopMinutes]) ?? 0,
            AllowSudo = (bool)values[LimitField.AllowSudo]!,
            Sources = sources,
        };
    }

    private static double? Num(object? v) => v switch { null => null, double d => d, long l => l, _ => Convert.ToDouble(v) };
}

namespace Ds01.Core.Naming;

/// <summary>
/// Label keys. Ds01 writes DS01's ds01.* schema and AIME's aime.mlc.* (so mlc list/open still see the
/// containers) and reads ds01.* first, then aime.mlc.USER.
/// </summary>
public static class Labels
{
    public const string Managed = "ds01.managed";
    public const string User = "ds01.user";
    public const string UserId = "ds01.user_id";
    public const string GroupId = "ds01.group_id";
    public const string Username = "ds01.username";
    public const string Name = "ds01.name";
    public const string Project = "ds01.project";
    public const string Group = "ds01.group";
    public const string CreatedAt = "ds01.created_at";
    public const string Interface = "ds01.interface";
    public const string Framework = "ds01.framework";
    public const string CustomImage = "ds01.custom_image";
    public const string WorkMount = "ds01.work_mount";
    public const string BaseImage = "ds01.base_image";
    /// <summary>On an image committed by the legacy create path (user added by run + commit, not by a build).</summary>
    public const string LegacyCommit = "ds01.legacy_commit";
    public const string DataMount = "ds01.data_mount";
    public const string Slice = "ds01.slice";
    public const string GpuSlots = "ds01.gpu.slots";
    public const string GpuUuids = "ds01.gpu.uuids";
    public const string GpuAllocated = "ds01.gpu.allocated";
    public const string GpuWeight = "ds01.gpu.weight";
    public const string GpuHoldMinutes = "ds01.gpu.hold_minutes";
    /// <summary>A create's request to ds01d to keep its place in the GPU queue until then (ISO 8601 UTC); ds01d removes it, no container carries it.</summary>
    public const string GpuWaitUntil = "ds01.gpu.wait_until";
    /// <summary>With GpuWaitUntil: how many GPUs the waiting request asks for (-GpuCount), whatever slots this attempt names.</summary>
    public const string GpuWaitCount = "ds01.gpu.wait_count";
    /// <summary>With GpuWaitUntil: the slot the waiting request named (-Gpu), if any.</summary>
    public const string GpuWaitSlot = "ds01.gpu.wait_slot";
    /// <summary>ds01d's directory of a container's checked binds (BINDDIR/N); ds01.bind.N is the host path of bind N.</summary>
    public const string BindDir = "ds01.bind_dir";
    public const string BindPrefix = "ds01.bind.";

    public const string Aime = "aime.mlc";
    public const string AimeName = "aime.mlc.NAME";
    public const string AimeUser = "aime.mlc.USER";
    public const string AimeVersion = "aime.mlc.VERSION";
    public const string AimeFramework = "aime.mlc.FRAMEWORK";
    public const string AimeWorkMount = "aime.mlc.WORK_MOUNT";
    public const string AimeDataMount = "aime.mlc.DATA_MOUNT";
    public const string AimeGpus = "aime.mlc.GPUS";
    public const string AimeDs01Managed = "aime.mlc.DS01_MANAGED";
    public const string AimeCustomImage = "aime.mlc.CUSTOM_IMAGE";

    // Image labels that select the fast create path (UserSetupPath).
    public const string HasUserSetup = "aime.mlc.DS01_HAS_USER_SETUP";
    public const string ImageUserId = "aime.mlc.DS01_USER_ID";
    public const string ImageGroupId = "aime.mlc.DS01_GROUP_ID";
    public const string ImageUsername = "aime.mlc.DS01_USERNAME";

    /// <summary>The hold after stop when a container has no usable label (DS01's default).</summary>
    public const double DefaultHoldMinutes = 15;

    /// <summary>The longest hold a label may state: resource-limits.yaml allows no more (LimitField).</summary>
    public const double MaxHoldMinutes = 525_600;

    /// <summary>
    /// ds01.gpu.hold_minutes, read defensively: labels are text anyone who builds an image or runs docker can set,
    /// so NaN, infinity, a negative or absurd number or garbage gives the default instead of breaking every reader.
    /// </summary>
    public static double HoldMinutes(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(GpuHoldMinutes, out var text) &&
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) &&
        double.IsFinite(v) && v >= 0
            ? Math.Min(v, MaxHoldMinutes)
            : DefaultHoldMinutes;

    /// <summary>Owner name: ds01.user, else aime.mlc.USER, else the aime.mlc value.</summary>
    public static string? Owner(IDictionary<string, string>? labels)
    {
        if (labels is null) return null;
        if (labels.TryGetValue(User, out var u) && !string.IsNullOrEmpty(u)) return u;
        if (labels.TryGetValue(AimeUser, out u) && !string.IsNullOrEmpty(u)) return u;
        if (labels.TryGetValue(Aime, out u) && !string.IsNullOrEmpty(u)) return u;
        return null;
    }
}

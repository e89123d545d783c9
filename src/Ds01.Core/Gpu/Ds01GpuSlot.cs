using System.Globalization;

namespace Ds01.Core.Gpu;

// Newtonsoft.Json is what ConvertTo-Json serializes with: the attribute makes `... | ConvertTo-Json` write the name.
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum GpuSlotState
{
    Free,
    Allocated,
    Held,
}

/// <summary>
/// One thing a container can be given: a whole GPU ("0") or one MIG instance on a GPU in MIG mode ("2.1").
/// A GPU in MIG mode is never a slot itself; its instances are.
/// </summary>
public sealed class Ds01GpuSlot
{
    /// <summary>"0" for a full GPU, "2.1" for MIG device 1 on GPU 2.</summary>
    public required string Slot { get; init; }
    /// <summary>Physical GPU index as nvidia-smi numbers it.</summary>
    public required int Index { get; init; }
    /// <summary>GPU-… for a full GPU, MIG-… for a MIG instance (what Docker's DeviceRequests take).</summary>
    public required string Uuid { get; init; }
    /// <summary>UUID of the physical GPU; the same as Uuid for a full GPU.</summary>
    public string? GpuUuid { get; init; }
    public required string Model { get; init; }
    /// <summary>MIG profile such as "3g.40gb"; null for a full GPU.</summary>
    public string? Profile { get; init; }
    public bool IsMig { get; init; }
    /// <summary>GPU-equivalents this slot costs against quota: 1.0 for a full GPU, N/7 for an Ng MIG profile.</summary>
    public double Weight { get; init; } = 1.0;
    public long? MemoryTotalMiB { get; init; }
    /// <summary>Null where nvidia-smi reports [N/A] (MIG instances, GPUs in MIG mode).</summary>
    public int? UtilizationPercent { get; init; }

    public GpuSlotState State { get; init; } = GpuSlotState.Free;
    public string? Container { get; init; }
    public string? User { get; init; }
    public DateTimeOffset? HoldExpiresAt { get; init; }
    /// <summary>The cluster node of the slot (backend: slurm); null on a single server.</summary>
    public string? Node { get; init; }

    /// <summary>A copy carrying allocation state, so inventory objects stay shareable.</summary>
    public Ds01GpuSlot WithAllocation(GpuSlotState state, string? container, string? user, DateTimeOffset? holdExpiresAt) => new()
    {
        Slot = Slot, Index = Index, Uuid = Uuid, GpuUuid = GpuUuid, Model = Model, Profile = Profile, IsMig = IsMig,
        Weight = Weight, MemoryTotalMiB = MemoryTotalMiB, UtilizationPercent = UtilizationPercent,
        State = state, Container = container, User = user, HoldExpiresAt = holdExpiresAt,
    };

    public override string ToString() => IsMig ? $"{Slot} ({Model} MIG {Profile})" : $"{Slot} ({Model})";

    /// <summary>Slot id of a full GPU.</summary>
    public static string FullSlotId(int index) => index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Slot id of a MIG instance: "gpu.device".</summary>
    public static string MigSlotId(int index, int device) =>
        index.ToString(CultureInfo.InvariantCulture) + "." + device.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Splits a slot id into the physical GPU index and the MIG device (null for a full GPU). DS01's own label
    /// spelling "2:1" reads like "2.1", so containers labelled by the original are still seen as holding slots.
    /// </summary>
    public static bool TryParseSlotId(string? slot, out int index, out int? device)
    {
        index = 0;
        device = null;
        if (string.IsNullOrWhiteSpace(slot)) return false;
        var parts = slot.Trim().Split('.', ':');
        if (parts.Length > 2 || !TryNonNegative(parts[0], out index)) return false;
        if (parts.Length == 1) return true;
        if (!TryNonNegative(parts[1], out var d)) return false;
        device = d;
        return true;
    }

    /// <summary>The canonical spelling of a slot id ("2:1" and " 2.1" become "2.1"); unparseable ids are returned trimmed.</summary>
    public static string NormalizeSlotId(string slot) =>
        TryParseSlotId(slot, out var index, out var device)
            ? device is { } d ? MigSlotId(index, d) : FullSlotId(index)
            : slot.Trim();

    private static bool TryNonNegative(string s, out int value) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>
    /// GPU-equivalents of a MIG profile: the leading compute-slice count over 7 ("3g.40gb" is 3/7), 7 being the
    /// compute slices per GPU on A100/H100/H200. False for anything else, so callers fail rather than count 0.
    /// </summary>
    public static bool TryMigWeight(string? profile, out double weight)
    {
        weight = 0;
        if (string.IsNullOrEmpty(profile)) return false;
        var g = profile.IndexOf('g');
        if (g <= 0 || !int.TryParse(profile.AsSpan(0, g), NumberStyles.None, CultureInfo.InvariantCulture, out var slices))
            return false;
        if (slices < 1 || slices > MigComputeSlices) return false;
        weight = slices / (double)MigComputeSlices;
        return true;
    }

    public const int MigComputeSlices = 7;

    /// <summary>Orders slot ids by GPU index, then MIG device ("2" &lt; "2.0" &lt; "2.10" numerically, "10" after "9").</summary>
    public static int CompareSlotIds(string a, string b)
    {
        var okA = TryParseSlotId(a, out var ia, out var da);
        var okB = TryParseSlotId(b, out var ib, out var db);
        if (okA && okB)
        {
            var c = ia.CompareTo(ib);
            if (c != 0) return c;
            return (da ?? -1).CompareTo(db ?? -1);
        }
        if (okA != okB) return okA ? -1 : 1;
        return string.CompareOrdinal(a, b);
    }
}

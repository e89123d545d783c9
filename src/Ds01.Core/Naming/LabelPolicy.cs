namespace Ds01.Core.Naming;

/// <summary>
/// Labels that decide ownership and GPU holdings come from Ds01 alone. Docker merges an image's labels into every
/// container made from it, so an image labelled ds01.gpu.slots=0,1 would make a CPU-only container hold two GPUs:
/// such images are refused, and every other ds01.* / aime.mlc.* label an image brings that Ds01 does not write
/// itself is cleared (set to "", which every reader treats as absent).
/// </summary>
public static class LabelPolicy
{
    /// <summary>Keys no image may carry: they would make containers hold GPUs.</summary>
    public static readonly IReadOnlyList<string> HoldingKeys =
        new[] { Labels.GpuSlots, Labels.GpuUuids, Labels.GpuAllocated, Labels.GpuWeight, Labels.GpuHoldMinutes, Labels.AimeGpus };

    public static bool IsDs01Key(string key) =>
        key.StartsWith("ds01.", StringComparison.Ordinal) || key == Labels.Aime || key.StartsWith(Labels.Aime + ".", StringComparison.Ordinal);

    /// <summary>Throws InvalidData when the image carries a label that decides GPU holdings.</summary>
    public static void RefuseHoldingLabels(IDictionary<string, string>? imageLabels, string image)
    {
        if (imageLabels is null) return;
        var bad = HoldingKeys.Where(k => imageLabels.TryGetValue(k, out var v) && !string.IsNullOrEmpty(v)).ToList();
        if (bad.Count == 0) return;
        throw new Ds01Exception(Ds01ErrorKind.InvalidData, "ImageCarriesGpuLabels",
            $"The image '{image}' carries the label{(bad.Count == 1 ? "" : "s")} {string.Join(", ", bad)}, which only Ds01 may set on a container (they decide who holds which GPU).",
            image, "Rebuild the image without those LABEL lines, or use another image.");
    }

    /// <summary>Clears every Ds01/AIME label the image brings that the container's own labels do not set.</summary>
    public static void ClearInherited(IDictionary<string, string> containerLabels, IDictionary<string, string>? imageLabels)
    {
        if (imageLabels is null) return;
        foreach (var key in imageLabels.Keys)
            if (IsDs01Key(key) && !containerLabels.ContainsKey(key)) containerLabels[key] = "";
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ds01.Core.Containers;
using Ds01.Core.Gpu;

namespace Ds01.Core.Cluster;

/// <summary>
/// Get-Ds01Gpu on a cluster: every node's GPU GRES from `sinfo --json` (one slot per GRES index, "n1:0"), marked
/// allocated where Slurm says the index is in use, with the Ds01 container that holds it (its ds01.node and slots).
/// </summary>
public static class ClusterGpus
{
    private static readonly Regex Entry = new(@"^gpu:(?:(?<type>[^:(]+):)?(?<n>[0-9]+)", RegexOptions.CultureInvariant);

    public static async Task<IReadOnlyList<Ds01GpuSlot>> SlotsAsync(Ds01Session session, IReadOnlyList<Ds01Container> containers, CancellationToken ct)
    {
        var json = await new SlurmClient(session.Config.Cluster).RequireAsync("sinfo", new[] { "--json" }, null, ct, "SlurmNodesUnreadable").ConfigureAwait(false);
        return Slots(json, containers);
    }

    public static IReadOnlyList<Ds01GpuSlot> Slots(string sinfoJson, IReadOnlyList<Ds01Container> containers)
    {
        using var doc = JsonDocument.Parse(sinfoJson);
        var slots = new List<Ds01GpuSlot>();
        if (!doc.RootElement.TryGetProperty("nodes", out var nodes)) return slots;
        foreach (var n in nodes.EnumerateArray())
        {
            var node = n.GetProperty("name").GetString() ?? "";
            var used = (n.TryGetProperty("gres_used", out var u) ? u.GetString() ?? "" : "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries).SelectMany(SlurmClient.Indices).ToHashSet();
            var index = 0;
            foreach (var gres in (n.TryGetProperty("gres", out var g) ? g.GetString() ?? "" : "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var m = Entry.Match(gres);
                if (!m.Success) continue;
                var type = m.Groups["type"].Success ? m.Groups["type"].Value : "gpu";
                var isMig = Ds01GpuSlot.TryMigWeight(type, out var weight);
                for (var k = 0; k < int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture); k++, index++)
                {
                    var i = index.ToString(CultureInfo.InvariantCulture);
                    var holder = containers.FirstOrDefault(c => c.Node == node && c.Gpu.Split(',').Contains(i));
                    slots.Add(new Ds01GpuSlot
                    {
                        Slot = $"{node}:{i}", Index = index, Uuid = "", Model = type, Node = node,
                        IsMig = isMig, Profile = isMig ? type : null, Weight = isMig ? weight : 1.0,
                        State = used.Contains(index) || holder is not null ? GpuSlotState.Allocated : GpuSlotState.Free,
                        Container = holder?.Name, User = holder?.User,
                    });
                }
            }
        }
        return slots;
    }
}

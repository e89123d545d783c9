using System.Globalization;
using System.Text.RegularExpressions;

namespace Ds01.Core.Gpu;

/// <summary>A MIG instance as `nvidia-smi -L` lists it under its GPU.</summary>
public sealed record SmiMigDevice(int Device, string Profile, string Uuid);

/// <summary>A GPU line of `nvidia-smi -L` with the MIG lines indented under it.</summary>
public sealed record SmiListedGpu(int Index, string Model, string Uuid, IReadOnlyList<SmiMigDevice> MigDevices);

/// <summary>One row of `nvidia-smi --query-gpu=… --format=csv`, keyed by field name without units.</summary>
public sealed class SmiQueryRow
{
    private static readonly Regex LeadingNumber = new(@"^\s*(-?\d+(?:\.\d+)?)", RegexOptions.CultureInvariant);

    public SmiQueryRow(IReadOnlyDictionary<string, string?> values) => Values = values;

    /// <summary>Values with units removed; null where nvidia-smi printed [N/A] or similar.</summary>
    public IReadOnlyDictionary<string, string?> Values { get; }

    public string? this[string field] => Values.TryGetValue(field, out var v) ? v : null;

    public int? Index => Int("index");
    public string? Uuid => this["uuid"];
    public string? Name => this["name"];
    public long? MemoryTotalMiB => Number("memory.total") is { } d ? (long)d : null;
    public int? UtilizationPercent => Int("utilization.gpu");
    /// <summary>"Enabled", "Disabled", or null on GPUs without MIG.</summary>
    public string? MigModeCurrent => this["mig.mode.current"];

    public int? Int(string field) => Number(field) is { } d ? (int)d : null;

    /// <summary>The leading number of a value, so "81559 MiB" (csv without nounits) and "81559" both read.</summary>
    public double? Number(string field)
    {
        var v = this[field];
        if (v is null) return null;
        var m = LeadingNumber.Match(v);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }
}

/// <summary>
/// Parses nvidia-smi's text outputs (-L and the --query-gpu CSV) and turns them into slots. Output it does not
/// recognise is an error, never an empty inventory: a GPU silently missing would be handed out twice or never.
/// </summary>
public static class NvidiaSmiParser
{
    // "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)"; the model may contain parentheses, so anchor on the UUID.
    private static readonly Regex GpuLine = new(@"^GPU\s+(\d+):\s+(.+?)\s+\(UUID:\s*(GPU-[0-9A-Za-z-]+)\)\s*$",
        RegexOptions.CultureInvariant);

    // "  MIG 1g.10gb     Device  0: (UUID: MIG-…)"; spacing differs between drivers.
    private static readonly Regex MigLine = new(@"^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s+\(UUID:\s*(MIG-[0-9A-Za-z/-]+)\)\s*$",
        RegexOptions.CultureInvariant);

    private static readonly string[] NotAvailable =
        { "[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", "[Insufficient Permissions]", "[GPU is lost]" };

    /// <summary>Parses `nvidia-smi -L`.</summary>
    public static IReadOnlyList<SmiListedGpu> ParseList(string text)
    {
        var gpus = new List<SmiListedGpu>();
        List<SmiMigDevice>? migs = null;
        var lineNo = 0;
        var indexes = new HashSet<int>();
        var uuids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var slices = 0;
        int? gpuIndex = null;
        foreach (var raw in SplitLines(text))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            // What nvidia-smi prints, exit code 0 or not, on a machine whose driver sees no GPU.
            if (raw.Trim().Equals("No devices were found", StringComparison.OrdinalIgnoreCase)) continue;
            var g = GpuLine.Match(raw);
            if (g.Success)
            {
                var index = ParseIndex(g.Groups[1].Value, "nvidia-smi -L", lineNo, raw);
                if (!indexes.Add(index)) throw Duplicate("nvidia-smi -L", lineNo, raw, $"GPU index {index} is listed twice");
                if (!uuids.Add(g.Groups[3].Value)) throw Duplicate("nvidia-smi -L", lineNo, raw, $"UUID {g.Groups[3].Value} is listed twice");
                migs = new List<SmiMigDevice>();
                gpuIndex = index;
                slices = 0;
                gpus.Add(new SmiListedGpu(index, g.Groups[2].Value.Trim(), g.Groups[3].Value, migs));
                continue;
            }
            var m = MigLine.Match(raw);
            if (m.Success && migs is not null)
            {
                var device = ParseIndex(m.Groups[2].Value, "nvidia-smi -L", lineNo, raw);
                if (migs.Any(x => x.Device == device))
                    throw Duplicate("nvidia-smi -L", lineNo, raw, $"MIG device {device} of GPU {gpuIndex} is listed twice");
                if (!uuids.Add(m.Groups[3].Value)) throw Duplicate("nvidia-smi -L", lineNo, raw, $"UUID {m.Groups[3].Value} is listed twice");
                // A GPU has 7 compute slices; instances adding up to more cannot exist and would overstate what can be handed out.
                if (Ds01GpuSlot.TryMigWeight(m.Groups[1].Value, out var w))
                {
                    slices += (int)Math.Round(w * Ds01GpuSlot.MigComputeSlices);
                    if (slices > Ds01GpuSlot.MigComputeSlices)
                        throw Duplicate("nvidia-smi -L", lineNo, raw,
                            $"the MIG instances of GPU {gpuIndex} add up to {slices} compute slices; a GPU has {Ds01GpuSlot.MigComputeSlices}");
                }
                migs.Add(new SmiMigDevice(device, m.Groups[1].Value, m.Groups[3].Value));
                continue;
            }
            throw Unrecognised("nvidia-smi -L", lineNo, raw);
        }
        return gpus;
    }

    /// <summary>
    /// Parses `--query-gpu` CSV. Without <paramref name="fields"/> the first line must be the header (units such as
    /// "[MiB]" are stripped from its names); with them the output is taken as `noheader` in that order, though a
    /// header line naming the same fields is still recognised and skipped.
    /// </summary>
    public static IReadOnlyList<SmiQueryRow> ParseQuery(string text, IReadOnlyList<string>? fields = null)
    {
        var lines = SplitLines(text).Select((l, i) => (Line: l, No: i + 1)).Where(x => !string.IsNullOrWhiteSpace(x.Line)).ToList();
        var rows = new List<SmiQueryRow>();
        if (lines.Count == 0) return rows;

        string[] names;
        string?[] units;
        var first = 0;
        var headerCells = SplitCsv(lines[0].Line);
        var headerNames = headerCells.Select(c => StripHeaderUnit(c, out _)).ToArray();
        if (fields is null)
        {
            if (!headerNames.Contains("index") && !headerNames.Contains("uuid"))
                throw new Ds01Exception(Ds01ErrorKind.InvalidData, "NvidiaSmiOutputUnrecognised",
                    $"nvidia-smi --query-gpu output has no header line (first line: '{lines[0].Line.Trim()}'); pass the field list for noheader output.",
                    lines[0].Line, "Run nvidia-smi with --format=csv (with header) or state the queried fields.");
            names = headerNames;
            units = headerCells.Select(c => { StripHeaderUnit(c, out var u); return u; }).ToArray();
            first = 1;
        }
        else
        {
            names = fields.Select(f => f.Trim()).ToArray();
            units = new string?[names.Length];
            if (headerNames.SequenceEqual(names, StringComparer.OrdinalIgnoreCase))
            {
                units = headerCells.Select(c => { StripHeaderUnit(c, out var u); return u; }).ToArray();
                first = 1;
            }
        }

        for (var i = first; i < lines.Count; i++)
        {
            var cells = SplitCsv(lines[i].Line);
            if (cells.Length != names.Length)
                throw Unrecognised("nvidia-smi --query-gpu", lines[i].No, lines[i].Line,
                    $"{cells.Length} values for {names.Length} fields ({string.Join(", ", names)})");
            var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            for (var c = 0; c < names.Length; c++) values[names[c]] = CleanValue(cells[c], units[c]);
            var row = new SmiQueryRow(values);
            if (values.TryGetValue("index", out var indexText) && indexText is not null)
            {
                var index = ParseIndex(indexText, "nvidia-smi --query-gpu", lines[i].No, lines[i].Line);
                if (rows.Any(r => r.Index == index))
                    throw Duplicate("nvidia-smi --query-gpu", lines[i].No, lines[i].Line, $"GPU index {index} is listed twice");
            }
            if (row.Uuid is { } uuid && rows.Any(r => string.Equals(r.Uuid, uuid, StringComparison.OrdinalIgnoreCase)))
                throw Duplicate("nvidia-smi --query-gpu", lines[i].No, lines[i].Line, $"UUID {uuid} is listed twice");
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// The slots of a machine: each GPU not in MIG mode is one slot; each GPU in MIG mode gives one slot per MIG
    /// instance and none for itself. MIG mode comes from the query's mig.mode.current; where the query has no
    /// value for a GPU, MIG lines under it in `-L` decide.
    /// </summary>
    public static IReadOnlyList<Ds01GpuSlot> BuildSlots(IReadOnlyList<SmiListedGpu> listed, IReadOnlyList<SmiQueryRow> query)
    {
        var rowsByIndex = new Dictionary<int, SmiQueryRow>();
        foreach (var row in query)
            if (row.Index is { } i) rowsByIndex[i] = row;

        var slots = new List<Ds01GpuSlot>();
        foreach (var gpu in listed.OrderBy(g => g.Index))
        {
            rowsByIndex.TryGetValue(gpu.Index, out var row);
            var mode = row?.MigModeCurrent;
            var migEnabled = mode is null ? gpu.MigDevices.Count > 0 : mode.Equals("Enabled", StringComparison.OrdinalIgnoreCase);
            if (!migEnabled)
            {
                slots.Add(new Ds01GpuSlot
                {
                    Slot = Ds01GpuSlot.FullSlotId(gpu.Index), Index = gpu.Index, Uuid = gpu.Uuid, GpuUuid = gpu.Uuid,
                    Model = gpu.Model, Weight = 1.0, MemoryTotalMiB = row?.MemoryTotalMiB,
                    UtilizationPercent = row?.UtilizationPercent,
                });
                continue;
            }
            foreach (var mig in gpu.MigDevices.OrderBy(m => m.Device))
                slots.Add(MigSlot(gpu.Index, gpu.Uuid, gpu.Model, mig.Device, mig.Profile, mig.Uuid));
        }
        return slots;
    }

    /// <summary>A MIG slot; an unreadable profile is an error because guessing its weight would misstate quota.</summary>
    public static Ds01GpuSlot MigSlot(int index, string? gpuUuid, string model, int device, string profile, string uuid)
    {
        if (!Ds01GpuSlot.TryMigWeight(profile, out var weight))
            throw new Ds01Exception(Ds01ErrorKind.InvalidData, "UnrecognisedMigProfile",
                $"MIG device {device} on GPU {index} has profile '{profile}', which does not start with a compute-slice count such as '1g' or '3g'; its GPU-equivalents cannot be worked out.",
                profile, "Report the nvidia-smi -L output; meanwhile list the GPUs in gpu-config.yaml.");
        return new Ds01GpuSlot
        {
            Slot = Ds01GpuSlot.MigSlotId(index, device), Index = index, Uuid = uuid, GpuUuid = gpuUuid, Model = model,
            Profile = profile, IsMig = true, Weight = weight,
        };
    }

    private static string[] SplitLines(string text) => text.Replace("\r\n", "\n").Split('\n');

    // nvidia-smi separates values with ", " and never quotes; GPU names contain no commas.
    private static string[] SplitCsv(string line) => line.Split(',').Select(c => c.Trim()).ToArray();

    private static string StripHeaderUnit(string cell, out string? unit)
    {
        unit = null;
        var open = cell.IndexOf('[');
        if (open > 0 && cell.EndsWith(']'))
        {
            unit = cell.Substring(open + 1, cell.Length - open - 2).Trim();
            return cell.Substring(0, open).Trim();
        }
        return cell.Trim();
    }

    private static string? CleanValue(string cell, string? unit)
    {
        if (cell.Length == 0 || NotAvailable.Any(n => cell.Equals(n, StringComparison.OrdinalIgnoreCase))) return null;
        if (unit is not null && cell.EndsWith(" " + unit, StringComparison.Ordinal))
            return cell.Substring(0, cell.Length - unit.Length - 1).TrimEnd();
        return cell;
    }

    /// <summary>No machine has more GPUs or MIG devices than this; a larger number is garbage, not an index.</summary>
    public const int MaxIndex = 1023;

    private static int ParseIndex(string s, string command, int lineNo, string line) =>
        int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v <= MaxIndex
            ? v : throw Unrecognised(command, lineNo, line, $"'{s.Trim()}' is not an index from 0 to {MaxIndex}");

    private static Ds01Exception Duplicate(string command, int lineNo, string line, string why) =>
        new(Ds01ErrorKind.InvalidData, "NvidiaSmiOutputInconsistent",
            $"Line {lineNo} of `{command}` output contradicts the lines before it ({why}): '{line.Trim()}'.",
            line, "Check the GPU driver (nvidia-smi -L should list each GPU and MIG device once), or list the GPUs in gpu-config.yaml.");

    private static Ds01Exception Unrecognised(string command, int lineNo, string line, string? why = null) =>
        new(Ds01ErrorKind.InvalidData, "NvidiaSmiOutputUnrecognised",
            $"Line {lineNo} of `{command}` output is not in a known format{(why is null ? "" : $" ({why})")}: '{line.Trim()}'.",
            line, "Check that nvidia-smi works (driver loaded, no version mismatch), or list the GPUs in gpu-config.yaml.");
}

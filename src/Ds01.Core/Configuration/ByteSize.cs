using System.Globalization;
using System.Text.RegularExpressions;

namespace Ds01.Core.Configuration;

/// <summary>Docker-style sizes in binary units: "32G" = 32 GiB, as the seeds' tests expect (34359738368).</summary>
public static class ByteSize
{
    private static readonly Regex Pattern = new(@"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (text is null) return false;
        var m = Pattern.Match(text);
        if (!m.Success) return false;
        var number = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var unit = m.Groups[2].Value.ToLowerInvariant();
        // A bare number is bytes, as in docker's --memory.
        double factor = unit switch { "k" => 1L << 10, "m" => 1L << 20, "g" => 1L << 30, "t" => 1L << 40, _ => 1 };
        var value = number * factor;
        if (value >= long.MaxValue) return false; // (long) of 2^63 would wrap
        bytes = (long)value;
        return true;
    }

    public static string Format(long bytes)
    {
        string[] units = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = bytes;
        var i = 0;
        while (v >= 1024 && i < units.Length - 1) { v /= 1024; i++; }
        return v.ToString(v % 1 == 0 ? "0" : "0.#", CultureInfo.InvariantCulture) + units[i];
    }
}

using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace Ds01.Cli;

/// <summary>How one value is written in a table cell or on a line of its own.</summary>
public static class ValueText
{
    public const string DateFormat = "yyyy-MM-dd HH:mm";

    public static object? Unwrap(object? value) =>
        value is PSObject ps && ps.BaseObject is not PSCustomObject ? ps.BaseObject : value;

    /// <summary>Values printed as they are rather than as a table of their properties.</summary>
    public static bool IsScalar(object? value) => Unwrap(value) switch
    {
        null => true,
        string or char or bool or decimal or DateTime or DateTimeOffset or TimeSpan or Guid or Version or Uri => true,
        Enum => true,
        var v => v.GetType().IsPrimitive,
    };

    public static string Format(object? value)
    {
        switch (Unwrap(value))
        {
            case null: return "";
            case string s: return s;
            // Local time, minute precision: what a person reading a server's table wants.
            case DateTime dt:
                return (dt.Kind == DateTimeKind.Utc ? dt.ToLocalTime() : dt).ToString(DateFormat, CultureInfo.InvariantCulture);
            case DateTimeOffset dto: return dto.ToLocalTime().ToString(DateFormat, CultureInfo.InvariantCulture);
            case PSObject ps: return ps.ToString();
            case IDictionary dict:
                return "{" + string.Join("; ", dict.Keys.Cast<object>().Select(k => $"{Format(k)}={Format(dict[k])}")) + "}";
            case IEnumerable items: return string.Join(", ", items.Cast<object?>().Select(Format));
            // Invariant culture so scripts parse the same numbers on every server.
            case IFormattable f: return f.ToString(null, CultureInfo.InvariantCulture);
            case var other: return other.ToString() ?? "";
        }
    }
}

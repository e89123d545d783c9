using System.Text.RegularExpressions;

namespace Ds01.Core.Events;

/// <summary>PowerShell-style wildcards (* ? [abc]) for Core filters, case-insensitive, matched whole.</summary>
public static class Glob
{
    public static Func<string, bool> Matcher(IReadOnlyCollection<string>? patterns)
    {
        if (patterns is null || patterns.Count == 0) return _ => true;
        var regexes = patterns.Select(ToRegex).ToList();
        return s => regexes.Any(r => r.IsMatch(s));
    }

    public static Regex ToRegex(string pattern)
    {
        var sb = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var ch = pattern[i];
            if (ch == '*') sb.Append(".*");
            else if (ch == '?') sb.Append('.');
            else if (ch == '[' && pattern.IndexOf(']', i + 1) is var close and > 0)
            {
                sb.Append('[').Append(Regex.Escape(pattern.Substring(i + 1, close - i - 1)).Replace("\\-", "-")).Append(']');
                i = close;
            }
            else if (ch == '`' && i + 1 < pattern.Length) sb.Append(Regex.Escape(pattern[++i].ToString()));
            else sb.Append(Regex.Escape(ch.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }
}

using System.Security.Cryptography;
using System.Text;

namespace Ds01.Core.Identity;

/// <summary>
/// Makes an account name safe for Linux user names, image labels and systemd slice names:
/// '@' becomes '-at-', '.' and anything else outside [a-z0-9_-] becomes '-' (h.baker@hertie-school.lan →
/// h-baker-at-hertie-school-lan). Lowercased; longer than 32 characters is cut and suffixed with a hash.
/// </summary>
public static class UsernameSanitizer
{
    public const int MaxLength = 32;

    public static string Sanitize(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("A user name cannot be empty.", nameof(name));
        var sb = new StringBuilder(name.Length + 8);
        foreach (var ch in name.ToLowerInvariant())
        {
            if (ch == '@') sb.Append("-at-");
            else if (ch is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-') sb.Append(ch);
            else sb.Append('-');
        }
        // A leading '-' would read as an option to useradd and friends.
        var s = sb.ToString().Trim('-');
        if (s.Length == 0) s = "user";
        if (s.Length <= MaxLength) return s;
        // Keep names distinct after truncation: two long names sharing a prefix must not collide.
        using var sha = SHA256.Create();
        var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(name));
        var suffix = BitConverter.ToString(hash, 0, 4).Replace("-", "").ToLowerInvariant();
        return s.Substring(0, MaxLength - 9) + "-" + suffix;
    }
}

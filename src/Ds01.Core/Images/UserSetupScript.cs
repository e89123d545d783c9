using System.Globalization;

namespace Ds01.Core.Images;

/// <summary>
/// The one shell script that creates the owner's account in an image: baked into a Dockerfile RUN (the fast path)
/// or run in a temporary container before a commit (the legacy path). useradd/groupadd on Debian and Ubuntu,
/// busybox adduser/addgroup elsewhere, and plain /etc/passwd and /etc/group lines where neither exists (minimal
/// images; Debian's static busybox has no adduser); a group or user the image already has with that GID/UID is reused.
/// </summary>
public static class UserSetupScript
{
    // Reads $uid, $gid and $name; every line is POSIX sh so busybox runs it too.
    private static readonly string[] Body =
    [
        "shell=/bin/sh; if [ -x /bin/bash ]; then shell=/bin/bash; fi",
        "if command -v useradd >/dev/null 2>&1; then tool=shadow; " +
            "elif command -v adduser >/dev/null 2>&1; then tool=busybox; " +
            "else tool=files; fi",
        "group=$(grep \"^[^:]*:[^:]*:$gid:\" /etc/group | cut -d: -f1 | head -n 1)",
        "if [ -z \"$group\" ]; then " +
            "group=$name; if grep -q \"^$group:\" /etc/group; then group=ds01-$gid; fi; " +
            "if [ $tool = shadow ]; then groupadd -g \"$gid\" \"$group\"; " +
            "elif [ $tool = busybox ]; then addgroup -g \"$gid\" \"$group\"; " +
            "else echo \"$group:x:$gid:\" >> /etc/group; fi; fi",
        "user=$(grep \"^[^:]*:[^:]*:$uid:\" /etc/passwd | cut -d: -f1 | head -n 1)",
        "if [ -z \"$user\" ]; then " +
            "user=$name; if grep -q \"^$user:\" /etc/passwd; then " +
            "echo \"ds01: the base image has a user $user with another UID\" >&2; exit 1; fi; " +
            "if [ $tool = shadow ]; then useradd -l -m -u \"$uid\" -g \"$gid\" -s \"$shell\" \"$user\"; " +
            "elif [ $tool = busybox ]; then adduser -D -u \"$uid\" -G \"$group\" -s \"$shell\" \"$user\"; " +
            "else echo \"$user:x:$uid:$gid::/home/$user:$shell\" >> /etc/passwd; " +
            "if [ -f /etc/shadow ]; then echo \"$user:!::0:99999:7:::\" >> /etc/shadow; fi; " +
            "mkdir -p \"/home/$user\"; chown \"$uid:$gid\" \"/home/$user\"; fi; fi",
        "home=$(grep \"^$user:\" /etc/passwd | cut -d: -f6 | head -n 1)",
        "mkdir -p \"$home/.local/bin\" /workspace",
        "chown -R \"$uid:$gid\" \"$home/.local\"",
        "chown \"$uid:$gid\" /workspace",
        "if [ -d /etc/sudoers.d ]; then " +
            "echo \"$user ALL=(ALL) NOPASSWD:ALL\" > \"/etc/sudoers.d/$user\"; chmod 0440 \"/etc/sudoers.d/$user\"; fi",
        // lastlog and faillog are emptied because large LDAP UIDs make them sparse files of hundreds of GB.
        "for log in /var/log/lastlog /var/log/faillog; do if [ -f \"$log\" ]; then : > \"$log\"; fi; done",
    ];

    /// <summary>The RUN instruction's command: values written in, after validation (a Dockerfile has no argv).</summary>
    public static string ForDockerfile(int uid, int gid, string userName)
    {
        DockerfileGenerator.ValidateUser(userName, uid, gid);
        string[] lines =
        [
            "set -e",
            $"uid={N(uid)}; gid={N(gid)}; name={userName}",
            .. Body,
        ];
        return string.Join("; \\\n    ", lines);
    }

    /// <summary>
    /// The argv of a container that runs the script as root: sh -c SCRIPT sh UID GID NAME. The values are
    /// positional arguments, never part of the script text, so nothing they contain is parsed by the shell.
    /// </summary>
    public static IList<string> Command(int uid, int gid, string userName)
    {
        DockerfileGenerator.ValidateUser(userName, uid, gid);
        var script = string.Join("; ", new[] { "set -e", "uid=$1; gid=$2; name=$3" }.Concat(Body));
        return ["/bin/sh", "-c", script, "sh", N(uid), N(gid), userName];
    }

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
}

using System.Text.RegularExpressions;

namespace Ds01.Core.Naming;

/// <summary>AIME's naming: container tag "name._.uid", image "ds01-{uid}/{project}:latest".</summary>
public static class ContainerNaming
{
    public const string Separator = "._.";

    // Docker's container-name rule, minus '.', so the separator stays unambiguous.
    private static readonly Regex NamePattern = new("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex ProjectPattern = new("^[a-z0-9][a-z0-9_-]{0,62}\\z", RegexOptions.CultureInvariant);

    public static bool IsValidName(string? name) => name is not null && NamePattern.IsMatch(name);

    public static void ValidateName(string? name)
    {
        if (!IsValidName(name))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidContainerName",
                $"'{name}' is not a valid container name.", name,
                "Use letters, digits, '-' and '_' (up to 63 characters), starting with a letter or digit.");
    }

    public static bool IsValidProject(string? project) => project is not null && ProjectPattern.IsMatch(project);

    public static void ValidateProject(string? project)
    {
        if (project is null || !ProjectPattern.IsMatch(project))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidProjectName",
                $"'{project}' is not a valid project name.", project,
                "Use lowercase letters, digits, '-' and '_' (up to 63 characters); it becomes part of an image name.");
    }

    public static string Tag(string name, int uid) => $"{name}{Separator}{uid}";

    // The characters Docker allows in a container name (its own rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+).
    private static readonly Regex DockerNameChars = new("^[a-zA-Z0-9_.-]+\\z", RegexOptions.CultureInvariant);

    /// <summary>
    /// A pattern for Docker's name filter (Go RE2, and the same in .NET) that matches a container name exactly when
    /// <see cref="ParseTag"/> gives it <paramref name="uid"/>: "._." then 0*UID at the end, because ParseTag takes
    /// what follows the last separator as a number and Docker names have no signs or spaces in them. With
    /// <paramref name="nameIgnoringCase"/> only names whose part before the separator equals it ignoring case
    /// (RE2 folds a few non-ASCII letters too, so callers compare again); null when that name has a character no
    /// Docker name can have, so no container can match it.
    /// </summary>
    public static string? DockerNameFilter(int uid, string? nameIgnoringCase = null)
    {
        var number = uid == 0 ? "-?0+" : "0*" + uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var suffix = $"\\._\\.{number}$";
        if (nameIgnoringCase is null) return suffix;
        if (!DockerNameChars.IsMatch(nameIgnoringCase)) return null;
        return $"^/?(?i:{nameIgnoringCase.Replace(".", "\\.", StringComparison.Ordinal)}){suffix}";
    }

    /// <summary>Splits "name._.uid"; a name without the separator (plain docker) gives uid null.</summary>
    public static (string Name, int? Uid) ParseTag(string tag)
    {
        tag = tag.TrimStart('/');
        var i = tag.LastIndexOf(Separator, StringComparison.Ordinal);
        if (i < 0) return (tag, null);
        return int.TryParse(tag.Substring(i + Separator.Length), out var uid) ? (tag.Substring(0, i), uid) : (tag, null);
    }

    private static readonly Regex OwnRepositoryPattern = new(@"^ds01-(\d+)/([^:/]+)\z", RegexOptions.CultureInvariant);

    public static string ImageRepository(int uid, string project) => $"ds01-{uid}/{project}";

    /// <summary>The owner's namespace for legacy commits of images that have no repository (referenced by ID).</summary>
    public static string LegacyRepository(int uid) => ImageRepository(uid, "legacy");

    /// <summary>Splits "ds01-{uid}/{project}"; null for any other repository.</summary>
    public static (int Uid, string Project)? ParseImageRepository(string repository)
    {
        var m = OwnRepositoryPattern.Match(repository);
        return m.Success && int.TryParse(m.Groups[1].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var uid)
            ? (uid, m.Groups[2].Value) : null;
    }
    public static string ImageName(int uid, string project) => $"{ImageRepository(uid, project)}:latest";
}

using System.Text;
using System.Text.RegularExpressions;
using Ds01.Core.Naming;

namespace Ds01.Core.Images;

/// <summary>
/// Writes a project's Dockerfile in DS01's phases: framework base → Jupyter → data science → use case → extra
/// packages → user setup → labels → USER/WORKDIR. Every value is validated before it is written, so nothing a user
/// typed can add a Dockerfile instruction or a shell command.
/// </summary>
public static class DockerfileGenerator
{
    /// <summary>Marks the extra-packages RUN so ReadPackages and ReplacePackages find it after manual edits.</summary>
    public const string PackagesMarker = "# ds01:packages";

    public static readonly IReadOnlyList<string> JupyterPackages = ["jupyterlab", "ipykernel", "ipywidgets"];
    public static readonly IReadOnlyList<string> DataSciencePackages = ["pandas", "scipy", "scikit-learn", "matplotlib", "seaborn"];

    public static IReadOnlyList<string> UseCasePackages(UseCase useCase) => useCase switch
    {
        UseCase.Cv => ["timm", "albumentations", "opencv-python-headless"],
        UseCase.Nlp => ["transformers", "datasets", "tokenizers"],
        UseCase.Rl => ["gymnasium", "stable-baselines3"],
        UseCase.Ml => ["xgboost", "lightgbm"],
        _ => [],
    };

    private const string PipInstall = "RUN pip install --no-cache-dir";

    // A PEP 508 name with extras and one version clause: nothing a shell or Dockerfile parser treats specially
    // except '<' and '>', which are written inside single quotes. \z, not $, so a trailing newline fails.
    private static readonly Regex PackagePattern = new(
        @"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?((==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!_-]+)?\z",
        RegexOptions.CultureInvariant);

    private const int MaxPackageLength = 200;

    // UsernameSanitizer's alphabet, without a leading '-' that useradd would read as an option.
    private static readonly Regex UserNamePattern = new(@"^[a-z0-9_][a-z0-9_-]{0,31}\z", RegexOptions.CultureInvariant);
    private static readonly Regex FrameworkLabelPattern = new(@"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}\z", RegexOptions.CultureInvariant);
    private static readonly Regex ProjectPattern = new(@"^[a-z0-9][a-z0-9_-]{0,62}\z", RegexOptions.CultureInvariant);

    public static bool IsValidPackage(string? package) =>
        package is not null && package.Length <= MaxPackageLength && PackagePattern.IsMatch(package);

    public static void ValidatePackage(string? package)
    {
        if (!IsValidPackage(package))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidPackageName",
                $"'{Printable(package)}' is not a pip requirement Ds01 accepts.", package,
                "Give one package per value, e.g. wandb, transformers[torch] or numpy>=1.26 (no spaces, quotes, ';' or '$').");
    }

    /// <summary>Validates the spec; throws Ds01Exception InvalidArgument naming the first bad value.</summary>
    public static void Validate(DockerfileSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ContainerNaming.ValidateProject(spec.Project);
        // ContainerNaming's pattern ends in '$', which lets one trailing newline through; this one does not.
        if (!ProjectPattern.IsMatch(spec.Project))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidProjectName",
                $"'{Printable(spec.Project)}' is not a valid project name.", spec.Project,
                "Use lowercase letters, digits, '-' and '_' (up to 63 characters).");
        ImageReference.Validate(spec.BaseImage);
        if (spec.Framework is not null && !FrameworkLabelPattern.IsMatch(spec.Framework))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidFrameworkName",
                $"'{Printable(spec.Framework)}' is not a valid framework name.", spec.Framework,
                "Use the catalog's name, e.g. Pytorch or Tensorflow.");
        if (spec.Version is not null && !FrameworkLabelPattern.IsMatch(spec.Version))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidFrameworkVersion",
                $"'{Printable(spec.Version)}' is not a valid framework version.", spec.Version,
                "Use the catalog's version, e.g. 2.5.1 or 2.8.0-aime.");
        if (!Enum.IsDefined(spec.UseCase))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidUseCase",
                $"'{spec.UseCase}' is not a use case.", spec.UseCase, "Use cv, nlp, rl, ml or custom.");
        foreach (var package in spec.Packages) ValidatePackage(package);
        ValidateUser(spec.UserName, spec.Uid, spec.Gid);
    }

    /// <summary>The account the user-setup script creates: a sanitised name and non-negative UID/GID.</summary>
    public static void ValidateUser(string userName, int uid, int gid)
    {
        if (!UserNamePattern.IsMatch(userName))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidUserName",
                $"'{Printable(userName)}' is not a sanitised user name.", userName,
                "Pass the name through UsernameSanitizer (lowercase letters, digits, '_' and '-', up to 32).");
        if (uid < 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidUserId",
                $"UID {uid} is negative.", uid, "Pass the user's numeric UID (id -u).");
        if (gid < 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidGroupId",
                $"GID {gid} is negative.", gid, "Pass the user's numeric GID (id -g).");
    }

    public static string Generate(DockerfileSpec spec)
    {
        Validate(spec);
        var image = ContainerNaming.ImageName(spec.Uid, spec.Project);
        var sb = new StringBuilder();
        sb.Append("# Dockerfile for ").Append(image).AppendLine(", generated by Ds01.");
        sb.AppendLine("# Edit freely, then rebuild with Update-Ds01Image -Rebuild; extra packages go on the RUN below \"" + PackagesMarker + "\".");
        sb.AppendLine();

        sb.AppendLine("# Phase 1/8, framework: the base image (AIME catalog, or Docker Hub without one).");
        sb.Append("FROM ").AppendLine(spec.BaseImage);
        sb.AppendLine("# Package and user setup need root, whatever user the base image ends with.");
        sb.AppendLine("USER root");
        sb.AppendLine();

        PipPhase(sb, "Phase 2/8, Jupyter: notebook server and kernel.", spec.Jupyter ? JupyterPackages : []);
        PipPhase(sb, "Phase 3/8, data science: dataframes, statistics and plots.", spec.DataScience ? DataSciencePackages : []);
        PipPhase(sb, $"Phase 4/8, use case ({spec.UseCase.ToString().ToLowerInvariant()}).", UseCasePackages(spec.UseCase));

        sb.AppendLine("# Phase 5/8, extra packages chosen for this project.");
        sb.AppendLine(PackagesMarker);
        var extras = Distinct(spec.Packages);
        if (extras.Count > 0) sb.AppendLine(PipLine(extras));
        sb.AppendLine();

        AppendUserSetup(sb, spec);
        AppendLabels(sb, spec);

        sb.AppendLine("# Phase 8/8, containers run as the owner in the AIME workspace mount.");
        sb.Append("USER ").Append(spec.Uid).Append(':').Append(spec.Gid).AppendLine();
        sb.AppendLine("WORKDIR /workspace");
        return sb.ToString();
    }

    /// <summary>The extra packages of a Ds01 Dockerfile: the pip arguments of the RUN after "# ds01:packages".</summary>
    public static IReadOnlyList<string> ReadPackages(string dockerfileText)
    {
        var lines = SplitLines(dockerfileText);
        var marker = FindMarker(lines);
        if (marker < 0) return [];
        var (start, end) = PackagesRun(lines, marker);
        if (start < 0) return [];
        var command = string.Join(" ", lines.Skip(start).Take(end - start + 1).Select(l => l.TrimEnd().TrimEnd('\\')));
        var install = command.IndexOf("install", StringComparison.Ordinal);
        if (install < 0) return [];
        return command.Substring(install + "install".Length)
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Where(t => !t.StartsWith('-'))
            .Select(t => t.Trim('\'', '"'))
            .Where(t => t.Length > 0)
            .ToList();
    }

    /// <summary>
    /// The Dockerfile with its extra-packages RUN replaced (removed when the list is empty); every other line, manual
    /// edits included, is kept. The file must carry the "# ds01:packages" marker.
    /// </summary>
    public static string ReplacePackages(string dockerfileText, IEnumerable<string> packages)
    {
        var list = Distinct(packages.ToList());
        foreach (var package in list) ValidatePackage(package);
        var lines = SplitLines(dockerfileText);
        var marker = FindMarker(lines);
        if (marker < 0)
            throw new Ds01Exception(Ds01ErrorKind.InvalidData, "PackagesMarkerNotFound",
                $"The Dockerfile has no '{PackagesMarker}' line, so Ds01 cannot tell which RUN holds the extra packages.",
                null, $"Add a line '{PackagesMarker}' above the pip install of the extra packages, or regenerate the Dockerfile.");
        var (start, end) = PackagesRun(lines, marker);
        if (start >= 0) lines.RemoveRange(start, end - start + 1);
        if (list.Count > 0) lines.Insert(marker + 1, PipLine(list));
        var text = string.Join("\n", lines);
        return dockerfileText.EndsWith('\n') && !text.EndsWith('\n') ? text + "\n" : text;
    }

    private static void PipPhase(StringBuilder sb, string comment, IReadOnlyList<string> packages)
    {
        if (packages.Count == 0)
        {
            sb.Append("# ").Append(comment.TrimEnd('.')).AppendLine(": off.");
            sb.AppendLine();
            return;
        }
        sb.Append("# ").AppendLine(comment);
        sb.AppendLine(PipLine(packages));
        sb.AppendLine();
    }

    // Single quotes keep '<', '>' and '[extras]' away from the shell; validated names contain no quote.
    private static string PipLine(IEnumerable<string> packages) =>
        PipInstall + " " + string.Join(" ", packages.Select(p => "'" + p + "'"));

    private static void AppendUserSetup(StringBuilder sb, DockerfileSpec spec)
    {
        sb.AppendLine("# Phase 6/8, user setup: the owner's UID/GID baked in, so containers start straight from the image");
        sb.AppendLine("# (the fast path, no run-and-commit). useradd/groupadd on Debian and Ubuntu, busybox adduser/addgroup");
        sb.AppendLine("# elsewhere, plain /etc/passwd and /etc/group lines without either; an existing GID/UID is reused.");
        sb.AppendLine("# lastlog and faillog are emptied because large LDAP UIDs make them sparse files of hundreds of GB.");
        sb.Append("RUN ").Append(UserSetupScript.ForDockerfile(spec.Uid, spec.Gid, spec.UserName)).AppendLine();
        sb.AppendLine();
    }

    private static void AppendLabels(StringBuilder sb, DockerfileSpec spec)
    {
        var labels = new List<(string Key, string Value)>
        {
            (Labels.HasUserSetup, "true"),
            (Labels.ImageUserId, spec.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (Labels.ImageGroupId, spec.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (Labels.ImageUsername, spec.UserName),
            (Labels.Managed, "true"),
            (Labels.Project, spec.Project),
            (Labels.User, spec.UserName),
            (Labels.UserId, spec.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (Labels.GroupId, spec.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (Labels.Username, spec.UserName),
            (Labels.BaseImage, spec.BaseImage),
        };
        if (spec.Framework is not null)
        {
            var framework = spec.Version is null ? spec.Framework : $"{spec.Framework}-{spec.Version}";
            labels.Add((Labels.Framework, framework));
            labels.Add((Labels.AimeFramework, framework));
        }
        sb.AppendLine("# Phase 7/8, labels: DS01's ds01.* and AIME's aime.mlc.*; DS01_HAS_USER_SETUP selects the fast path.");
        sb.Append("LABEL ").Append(string.Join(" \\\n      ", labels.Select(l => $"{l.Key}=\"{l.Value}\""))).AppendLine();
        sb.AppendLine();
    }

    private static List<string> Distinct(IReadOnlyList<string> packages) =>
        packages.Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    private static List<string> SplitLines(string text) =>
        text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n').ToList();

    private static int FindMarker(List<string> lines) =>
        lines.FindIndex(l => l.Trim().Equals(PackagesMarker, StringComparison.Ordinal));

    // The RUN right after the marker (continuation lines included), if it is a pip install; (-1, -1) otherwise.
    private static (int Start, int End) PackagesRun(List<string> lines, int marker)
    {
        var start = marker + 1;
        if (start >= lines.Count) return (-1, -1);
        var first = lines[start].TrimStart();
        if (!first.StartsWith("RUN ", StringComparison.OrdinalIgnoreCase) ||
            !first.Contains("pip", StringComparison.Ordinal) || !first.Contains("install", StringComparison.Ordinal))
            return (-1, -1);
        var end = start;
        while (end + 1 < lines.Count && lines[end].TrimEnd().EndsWith('\\')) end++;
        return (start, end);
    }

    // Error messages show control characters escaped, so an injected newline is visible, not a broken line.
    private static string Printable(string? value) =>
        value is null ? "" : string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}

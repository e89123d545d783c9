using System.Text.RegularExpressions;
using Ds01.Core.Configuration;

namespace Ds01.Core.Images;

/// <summary>
/// AIME's ml_images.repo: headerless CSV rows "framework, version, architecture, image". v1 has one bare
/// architecture per row (rows repeat when an image serves several) and may carry a fifth, reserved column; v2 has
/// a bracketed list "[CUDA_ADA;CUDA_AMPERE]". Both are read, row by row, so a file may even mix them.
/// </summary>
public sealed class ImageCatalog
{
    /// <summary>Where AIME installs its catalog; gpu-config.yaml image_catalog: overrides it.</summary>
    public const string DefaultPath = "/opt/aime-ml-containers/ml_images.repo";

    private static readonly Regex FrameworkPattern = new(@"^[A-Za-z][A-Za-z0-9_.+-]*\z", RegexOptions.CultureInvariant);
    private static readonly Regex VersionPattern = new(@"^[A-Za-z0-9][A-Za-z0-9_.+-]*\z", RegexOptions.CultureInvariant);
    private static readonly Regex ArchitecturePattern = new(@"^[A-Za-z0-9_]+\z", RegexOptions.CultureInvariant);

    // One architecture of one line, in file order: the seeds' version fallback means "first row in the file".
    private sealed record Row(Ds01Framework Entry, string Architecture);

    private readonly List<Row> _rows;

    private ImageCatalog(string file, IReadOnlyList<Ds01Framework> entries, List<Row> rows)
    {
        File = file;
        Entries = entries;
        _rows = rows;
    }

    public string File { get; }

    /// <summary>Every image once, rows with the same framework, version and image merged, in file order.</summary>
    public IReadOnlyList<Ds01Framework> Entries { get; }

    public static ImageCatalog Load(string path)
    {
        if (!System.IO.File.Exists(path))
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "ImageCatalogNotFound",
                $"The AIME image catalog '{path}' does not exist.", path,
                "Install AIME MLC or set image_catalog: in gpu-config.yaml to its ml_images.repo.");
        return Parse(path, System.IO.File.ReadAllText(path));
    }

    public static IReadOnlyList<ConfigProblem> Validate(string file, string text) => Read(file, text).Problems;

    public static ImageCatalog Parse(string file, string text)
    {
        var (lines, problems) = Read(file, text);
        if (problems.Count > 0) throw new ConfigException(problems);

        var entries = new List<Ds01Framework>();
        var byKey = new Dictionary<(string, string, string), int>();
        var rows = new List<(int EntryIndex, string Architecture)>();
        var architectures = new List<List<string>>();
        foreach (var line in lines)
        {
            var key = (line.Framework.ToLowerInvariant(), line.Version, line.Image);
            if (!byKey.TryGetValue(key, out var index))
            {
                index = entries.Count;
                byKey[key] = index;
                entries.Add(new Ds01Framework { Framework = line.Framework, Version = line.Version, Image = line.Image });
                architectures.Add([]);
            }
            foreach (var arch in line.Architectures)
            {
                if (!architectures[index].Contains(arch, StringComparer.OrdinalIgnoreCase)) architectures[index].Add(arch);
                rows.Add((index, arch));
            }
        }
        var merged = entries.Select((e, i) => new Ds01Framework
        {
            Framework = e.Framework, Version = e.Version, Image = e.Image, ArchitectureList = architectures[i].ToArray(),
        }).ToList();
        return new ImageCatalog(file, merged, rows.Select(r => new Row(merged[r.EntryIndex], r.Architecture)).ToList());
    }

    /// <summary>
    /// Entries matching every given filter: framework and architecture case-insensitively (pytorch == Pytorch),
    /// version exactly. A null or empty filter matches everything.
    /// </summary>
    public IReadOnlyList<Ds01Framework> Find(string? name, string? version, string? architecture) =>
        Entries.Where(e =>
                (string.IsNullOrEmpty(name) || e.Framework.Equals(name, StringComparison.OrdinalIgnoreCase)) &&
                (string.IsNullOrEmpty(version) || e.Version.Equals(version, StringComparison.Ordinal)) &&
                (string.IsNullOrEmpty(architecture) ||
                 e.ArchitectureList.Contains(architecture, StringComparer.OrdinalIgnoreCase)))
            .ToList();

    /// <summary>Framework names listed for an architecture, in file order.</summary>
    public IReadOnlyList<string> FrameworksFor(string architecture) =>
        _rows.Where(r => r.Architecture.Equals(architecture, StringComparison.OrdinalIgnoreCase))
            .Select(r => r.Entry.Framework).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>
    /// The seeds' lookup: exact (framework, version, architecture); else the first row for (framework,
    /// architecture) in file order, with the warning "Version X not found, using: image"; else FrameworkNotFound.
    /// A null version takes the first row without a warning (the catalog lists newest first).
    /// </summary>
    public ImageResolution Resolve(string framework, string? version, string architecture)
    {
        var forArch = _rows.Where(r =>
            r.Architecture.Equals(architecture, StringComparison.OrdinalIgnoreCase) &&
            r.Entry.Framework.Equals(framework, StringComparison.OrdinalIgnoreCase)).ToList();
        if (forArch.Count == 0)
        {
            var available = FrameworksFor(architecture);
            var list = available.Count > 0
                ? $"Available for {architecture}: {string.Join(", ", available)}."
                : $"The catalog lists no images for {architecture}.";
            throw new Ds01Exception(Ds01ErrorKind.NotFound, "FrameworkNotFound",
                $"Framework '{framework}' not found in AIME catalog for {architecture}. {list}", framework,
                "Pick a framework the catalog lists (Get-Ds01Framework), or another architecture.");
        }

        if (!string.IsNullOrEmpty(version))
        {
            var exact = forArch.FirstOrDefault(r => r.Entry.Version.Equals(version, StringComparison.Ordinal));
            if (exact is not null) return FromEntry(exact.Entry, null);
            var first = forArch[0].Entry;
            return FromEntry(first, $"Version {version} not found, using: {first.Image}");
        }
        return FromEntry(forArch[0].Entry, null);
    }

    private static ImageResolution FromEntry(Ds01Framework entry, string? warning) => new()
    {
        Entry = entry, Image = entry.Image, Framework = entry.Framework, Version = entry.Version, Warning = warning,
    };

    /// <summary>
    /// The seeds' images when no AIME catalog is installed: Docker Hub's own PyTorch and TensorFlow
    /// images. A null version takes the seeds' versions, 2.5.1 and 2.14.0.
    /// </summary>
    public static string DockerHubFallback(string framework, string? version)
    {
        if (!string.IsNullOrEmpty(version) && !VersionPattern.IsMatch(version))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidFrameworkVersion",
                $"'{version}' is not a valid framework version.", version,
                "Use a version such as 2.5.1 (letters, digits, '.', '-', '_' and '+').");
        string image;
        switch (framework.ToLowerInvariant())
        {
            case "pytorch":
            case "torch":
                image = $"pytorch/pytorch:{(string.IsNullOrEmpty(version) ? "2.5.1" : version)}-cuda11.8-cudnn9-runtime";
                break;
            case "tensorflow":
            case "tf":
                image = $"tensorflow/tensorflow:{(string.IsNullOrEmpty(version) ? "2.14.0" : version)}-gpu";
                break;
            default:
                // The seeds fall through to PyTorch here; an explicit error is kinder than a surprise framework.
                throw new Ds01Exception(Ds01ErrorKind.NotFound, "FrameworkNotFound",
                    $"Framework '{framework}' has no Docker Hub fallback image (the AIME catalog is not installed). " +
                    "Available without the catalog: Pytorch, Tensorflow.", framework,
                    "Install AIME MLC, set image_catalog: in gpu-config.yaml, or pass a base image.");
        }
        ImageReference.Validate(image);
        return image;
    }

    private sealed record Line(string Framework, string Version, string[] Architectures, string Image);

    private static (List<Line> Lines, List<ConfigProblem> Problems) Read(string file, string text)
    {
        var lines = new List<Line>();
        var problems = new List<ConfigProblem>();
        if (text.Length > 0 && text[0] == '\uFEFF') text = text.Substring(1);
        var raw = text.Split('\n');
        for (var n = 0; n < raw.Length; n++)
        {
            var lineNo = n + 1;
            var s = raw[n].TrimEnd('\r');
            var trimmed = s.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#') continue;

            var fields = SplitFields(s);
            if (fields.Count < 4)
            {
                problems.Add(new ConfigProblem(file, lineNo, s.Length - s.TrimStart().Length + 1, "CatalogColumnCount",
                    $"expected 4 comma-separated columns (framework, version, architecture, image), found {fields.Count}"));
                continue;
            }
            if (fields.Count > 5)
            {
                problems.Add(new ConfigProblem(file, lineNo, fields[5].Column, "CatalogColumnCount",
                    $"expected at most 5 columns (the fifth is reserved), found {fields.Count}"));
                continue;
            }

            var before = problems.Count;
            var (fw, ver, arch, image) = (fields[0], fields[1], fields[2], fields[3]);
            if (!FrameworkPattern.IsMatch(fw.Value))
                problems.Add(new ConfigProblem(file, lineNo, fw.Column, "CatalogFramework",
                    fw.Value.Length == 0 ? "the framework is empty" : $"'{fw.Value}' is not a framework name"));
            if (!VersionPattern.IsMatch(ver.Value))
                problems.Add(new ConfigProblem(file, lineNo, ver.Column, "CatalogVersion",
                    ver.Value.Length == 0 ? "the version is empty" : $"'{ver.Value}' is not a version"));
            var architectures = ReadArchitectures(file, lineNo, arch, problems);
            if (!ImageReference.IsValid(image.Value))
                problems.Add(new ConfigProblem(file, lineNo, image.Column, "CatalogImage",
                    image.Value.Length == 0 ? "the image is empty" : $"'{image.Value}' is not a valid Docker image reference"));
            if (problems.Count == before)
                lines.Add(new Line(fw.Value, ver.Value, architectures, image.Value));
        }
        return (lines, problems);
    }

    private static string[] ReadArchitectures(string file, int lineNo, Field arch, List<ConfigProblem> problems)
    {
        var value = arch.Value;
        if (!value.StartsWith('[') && !value.EndsWith(']'))
        {
            // v1: one bare token.
            if (ArchitecturePattern.IsMatch(value)) return [value];
            problems.Add(new ConfigProblem(file, lineNo, arch.Column, "CatalogArchitecture",
                value.Length == 0 ? "the architecture is empty" : $"'{value}' is not an architecture (e.g. CUDA_ADA or [CUDA_ADA;CUDA_AMPERE])"));
            return [];
        }
        if (!value.StartsWith('[') || !value.EndsWith(']') || value.Length < 2)
        {
            problems.Add(new ConfigProblem(file, lineNo, arch.Column, "CatalogArchitecture",
                $"'{value}' has an unbalanced bracket; write [CUDA_ADA;CUDA_AMPERE]"));
            return [];
        }
        var items = value.Substring(1, value.Length - 2).Split(';');
        var result = new List<string>();
        var offset = 1;
        foreach (var item in items)
        {
            var token = item.Trim();
            var column = arch.Column + offset + (item.Length - item.TrimStart().Length);
            if (!ArchitecturePattern.IsMatch(token))
                problems.Add(new ConfigProblem(file, lineNo, column, "CatalogArchitecture",
                    token.Length == 0 ? "an empty architecture in the list" : $"'{token}' is not an architecture"));
            else
                result.Add(token);
            offset += item.Length + 1;
        }
        return result.ToArray();
    }

    private readonly record struct Field(string Value, int Column);

    // Splits on ',' and trims each field, keeping the 1-based column where its text starts.
    private static List<Field> SplitFields(string line)
    {
        var fields = new List<Field>();
        var start = 0;
        while (true)
        {
            var comma = line.IndexOf(',', start);
            var end = comma < 0 ? line.Length : comma;
            var part = line.Substring(start, end - start);
            var lead = part.Length - part.TrimStart().Length;
            fields.Add(new Field(part.Trim(), start + lead + 1));
            if (comma < 0) break;
            start = comma + 1;
        }
        return fields;
    }
}

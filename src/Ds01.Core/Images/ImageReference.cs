using System.Text.RegularExpressions;

namespace Ds01.Core.Images;

/// <summary>
/// Docker's image reference grammar (distribution/reference): [host[:port]/]path[:tag][@digest]. Checked before a
/// reference reaches a Dockerfile or the catalog, so nothing else can ride along in a FROM line.
/// </summary>
public static class ImageReference
{
    private const string Component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private const string DomainPart = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private const string Domain = DomainPart + "(?:\\." + DomainPart + ")*(?::[0-9]+)?";
    private const string Tag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    private const string Digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

    private static readonly Regex Pattern = new(
        $"^(?:{Domain}/)?{Component}(?:/{Component})*(?::{Tag})?(?:@{Digest})?\\z",
        RegexOptions.CultureInvariant);

    // Docker's limit on the name part (without tag and digest).
    private const int MaxNameLength = 255;

    public static bool IsValid(string? reference)
    {
        if (string.IsNullOrEmpty(reference) || !Pattern.IsMatch(reference)) return false;
        var name = reference;
        var at = name.IndexOf('@');
        if (at >= 0) name = name.Substring(0, at);
        var lastSlash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        if (colon > lastSlash) name = name.Substring(0, colon);
        return name.Length <= MaxNameLength;
    }

    public static void Validate(string? reference)
    {
        if (!IsValid(reference))
            throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "InvalidImageReference",
                $"'{reference}' is not a valid Docker image reference.", reference,
                "Use a reference such as aimehub/pytorch-2.5.1-aime-cuda12.1.1 or registry:5000/team/image:tag.");
    }
}

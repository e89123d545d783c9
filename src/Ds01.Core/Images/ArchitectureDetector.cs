using System.Text.RegularExpressions;

namespace Ds01.Core.Images;

/// <summary>
/// Maps GPU model names (nvidia-smi's "name") to AIME's architecture tokens, which select catalog rows.
/// </summary>
/// <remarks>
/// AIME's tokens name CUDA image lines rather than chip families: mlc picks CUDA_AMPERE for CUDA 11.x hosts,
/// CUDA_ADA for CUDA 12.0–12.7 and CUDA_BLACKWELL for 12.8 and later. There is no Hopper token; H100/H200 need
/// the CUDA 12 images (sm_90), which AIME files under CUDA_ADA, so Hopper maps to CUDA_ADA.
/// </remarks>
public static class ArchitectureDetector
{
    public const string Cuda = "CUDA";
    public const string CudaAmpere = "CUDA_AMPERE";
    public const string CudaAda = "CUDA_ADA";
    public const string CudaBlackwell = "CUDA_BLACKWELL";

    // Checked newest first: "RTX PRO 6000 Blackwell" and "RTX 6000 Ada" must not fall into the Ampere "RTX A6000" rule.
    private static readonly (Regex Pattern, string Architecture)[] Rules =
    [
        (Rule(@"blackwell|\bG?B(100|200|300)\b|\bRTX\s*50\d\d"), CudaBlackwell),
        (Rule(@"\bAda\b|hopper|\bG?H(100|200|800)\b|\bL(4|40S?|20)\b|\bRTX\s*40\d\d"), CudaAda),
        (Rule(@"ampere|\bA(2|10G?|16|30|40|100|800)\b|\bRTX\s*A\d{4}\b|\bRTX\s*30\d\d"), CudaAmpere),
    ];

    private static Regex Rule(string pattern) =>
        new(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>The architecture token for one GPU model; older or unknown GPUs get plain CUDA.</summary>
    public static string Detect(string? model)
    {
        if (string.IsNullOrWhiteSpace(model)) return Cuda;
        // nvidia-smi separates form factor and memory with '-' ("A100-SXM4-80GB"); treat it as a word break.
        var normalised = model.Replace('-', ' ');
        foreach (var (pattern, architecture) in Rules)
            if (pattern.IsMatch(normalised)) return architecture;
        return Cuda;
    }

    /// <summary>The distinct architectures of a machine's GPUs, in the order first seen; mixed machines get several.</summary>
    public static IReadOnlyList<string> DetectAll(IEnumerable<string?> models) =>
        models.Select(Detect).Distinct(StringComparer.Ordinal).ToList();
}

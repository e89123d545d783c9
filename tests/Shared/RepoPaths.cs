namespace Ds01.Tests;

/// <summary>Finds the repository root and its test fixtures, wherever the tests run from.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string ModuleManifest => Path.Combine(Root, "out", "Ds01", "Ds01.psd1");

    /// <summary>tests/fixtures: captures the tests read (nvidia-smi output of real machines); a clone is self-contained.</summary>
    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

    public static string NvidiaSmiFixture(string machine) => Path.Combine(Fixtures, "nvidia-smi", machine);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ds01.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Ds01.sln not found above " + AppContext.BaseDirectory);
    }
}

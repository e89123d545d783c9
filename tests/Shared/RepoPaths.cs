namespace Ds01.Tests;

/// <summary>Finds the repository root and the shared fixtures beside it, wherever the tests run from.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string ModuleManifest => Path.Combine(Root, "out", "Ds01", "Ds01.psd1");

    /// <summary>../shared/fixtures (the tests read fixtures there; they are never copied into the repo).</summary>
    public static string Fixtures
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("DS01_SHARED_DIR");
            var shared = string.IsNullOrEmpty(env) ? Path.Combine(Path.GetDirectoryName(Root)!, "shared") : env;
            return Path.Combine(shared, "fixtures");
        }
    }

    public static string NvidiaSmiFixture(string machine) => Path.Combine(Fixtures, "nvidia-smi", machine);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ds01.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Ds01.sln not found above " + AppContext.BaseDirectory);
    }
}

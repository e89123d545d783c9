using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>Tab completion through the real engine (TabExpansion2) against the real dockerd.</summary>
[Collection("engine")]
public class CompletionTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    private static List<string> Complete(DockerTestBed bed, string line)
    {
        var r = bed.Run($"(TabExpansion2 -inputScript '{line}' -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText");
        Assert.Empty(r.Errors);
        return r.Output.Select(o => o.BaseObject.ToString()!).ToList();
    }

    [Fact]
    public void Container_names_are_offered_by_the_state_the_command_needs()
    {
        using var bed = new DockerTestBed();
        var running = bed.Name("crun");
        var created = bed.Name("ccre");
        Assert.Empty(bed.Run($"Deploy-Ds01Container {running} -Image {Img} -GpuCount 0").Errors);
        Assert.Empty(bed.Run($"New-Ds01Container {created} -Image {Img} -GpuCount 0").Errors);
        // Both names start with "c" and end with the run id; filter to this run's.
        List<string> Mine(string line) => Complete(bed, line).Where(n => n.EndsWith(bed.RunId, StringComparison.Ordinal)).ToList();

        Assert.Equal(new[] { created }, Mine("Start-Ds01Container -Name c"));
        Assert.Equal(new[] { running }, Mine("Stop-Ds01Container c"));
        Assert.Equal(new[] { running }, Mine("Enter-Ds01Container -Name c"));
        Assert.Equal(new[] { created, running }.Order(), Mine("Enter-Ds01Container -Start -Name c").Order());
        Assert.Equal(new[] { created, running }.Order(), Mine("Remove-Ds01Container -Name c").Order());
        Assert.Equal(new[] { created, running }.Order(), Mine("Get-Ds01Container c").Order());
        Assert.Empty(Mine("Resume-Ds01Container -Name c"));
    }

    [Fact]
    public void Images_projects_frameworks_slots_and_users_complete()
    {
        using var bed = new DockerTestBed($"users:\n  comp{DateTime.UtcNow.Ticks % 100000}x: {{ gpu_limit: 1 }}", simulatedGpus: 2);
        bed.Config.Write("ml_images.repo", File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "ml_images.repo")));
        var project = bed.Name("cproj");
        var tagged = DockerTestBed.DockerCli("tag", Img, $"ds01-{bed.Uid}/{project}:latest");
        Assert.True(tagged.Code == 0, tagged.Err);

        Assert.Contains(Img, Complete(bed, "New-Ds01Container x -Image ds01-t"));
        Assert.Contains($"ds01-{bed.Uid}/{project}:latest", Complete(bed, $"Deploy-Ds01Container x -Image ds01-{bed.Uid}/"));
        Assert.Equal(new[] { project }, Complete(bed, $"New-Ds01Container x -Project {project[..6]}").Where(p => p.Contains(bed.RunId)));
        Assert.Contains(project, Complete(bed, "Build-Ds01Image -Project cpr"));
        Assert.Contains("pytorch", Complete(bed, "Build-Ds01Image -Project p -Framework py"));
        Assert.Contains("pytorch", Complete(bed, "Get-Ds01Framework -Name py"));
        Assert.Equal(new[] { "0", "1" }, Complete(bed, "New-Ds01Container x -Gpu "));
        // The test runs as root, an admin: the configured account is offered for -User.
        Assert.Contains(Complete(bed, "Get-Ds01Container -User comp"), u => u.StartsWith("comp", StringComparison.Ordinal) && u.EndsWith('x'));
    }
}

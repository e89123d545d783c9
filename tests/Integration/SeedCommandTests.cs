using System.Text.Json;
using Ds01.Core.Containers;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>The seed commands through the real ds01 and dockerd make the same containers as the cmdlets.</summary>
[Collection("engine")]
public class SeedCommandTests
{
    private const string Img = DockerTestBed.BusyboxImage;

    [Fact]
    public void Container_create_makes_what_New_Ds01Container_makes_and_the_lifecycle_follows()
    {
        using var bed = new DockerTestBed();
        var seedName = bed.Name("seed");
        var cmdletName = bed.Name("cmdlet");

        var created = Ds01Cli.RunWith(bed.Env, null, "container-create", seedName, $"--image={Img}", "--gpu=0");
        Assert.True(created.ExitCode == 0, created.Err);
        Assert.Empty(bed.Run($"New-Ds01Container {cmdletName} -Image {Img} -GpuCount 0").Errors);

        var bySeed = bed.Inspect(bed.Tag("seed"))!;
        var byCmdlet = bed.Inspect(bed.Tag("cmdlet"))!;
        string Normal(string? s) => (s ?? "").Replace(seedName, "N").Replace(cmdletName, "N").Replace(seedName.ToLowerInvariant(), "N").Replace(cmdletName.ToLowerInvariant(), "N");
        var except = new HashSet<string> { "ds01.created_at" };
        Assert.Equal(
            byCmdlet.Config!.Labels.Where(l => !except.Contains(l.Key)).ToDictionary(l => l.Key, l => Normal(l.Value)),
            bySeed.Config!.Labels.Where(l => !except.Contains(l.Key)).ToDictionary(l => l.Key, l => Normal(l.Value)));
        Assert.Equal(byCmdlet.HostConfig!.NanoCPUs, bySeed.HostConfig!.NanoCPUs);
        Assert.Equal(byCmdlet.HostConfig.Memory, bySeed.HostConfig.Memory);
        Assert.Equal(byCmdlet.HostConfig.PidsLimit, bySeed.HostConfig.PidsLimit);
        Assert.Equal(byCmdlet.HostConfig.Binds.Select(Normal), bySeed.HostConfig.Binds.Select(Normal));
        Assert.Equal(byCmdlet.Config.User, bySeed.Config.User);

        var start = Ds01Cli.RunWith(bed.Env, null, "container-start", seedName);
        Assert.True(start.ExitCode == 0, start.Err);

        // The seed's table (through Core, without the engine) and JSON both show it running.
        var table = Ds01Cli.RunWith(bed.Env, null, "container-list");
        Assert.Equal(0, table.ExitCode);
        var lines = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+STATUS\s+IMAGE\s+GPU\s+UPTIME$", lines[0]);
        Assert.Contains(lines, l => l.StartsWith(seedName + " ", StringComparison.Ordinal) && l.Contains(" running ") && l.Contains(Img));
        Assert.Contains(lines, l => l.StartsWith(cmdletName + " ", StringComparison.Ordinal) && l.Contains(" created "));
        Assert.Matches(@"^\d+ running, \d+ stopped, \d+ total$", lines[^1]);

        var json = Ds01Cli.RunWith(bed.Env, null, "container-list", "--format=json");
        var listed = JsonDocument.Parse(json.Out).RootElement.EnumerateArray()
            .ToDictionary(e => e.GetProperty("Name").GetString()!, e => e.GetProperty("State").GetString());
        Assert.Equal("Running", listed[seedName]);
        Assert.Equal("Created", listed[cmdletName]);
        // The same containers, in the same states, as Get-Ds01Container reports.
        var viaCmdlet = bed.Run("Get-Ds01Container").Output.Select(o => (Ds01Container)o.BaseObject).ToDictionary(c => c.Name, c => c.State.ToString());
        Assert.Equal(viaCmdlet, listed.ToDictionary(p => p.Key, p => p.Value ?? ""));

        var simple = Ds01Cli.RunWith(bed.Env, null, "container-list", "--format=simple");
        Assert.Contains(seedName, simple.Out.Split('\n'));

        var stats = Ds01Cli.RunWith(bed.Env, null, "container-stats", seedName);
        Assert.True(stats.ExitCode == 0, stats.Err);
        Assert.Matches(@"^NAME\s+CPU %\s+MEM USAGE\s+MEM %\s+GPU MEM\s+GPU %", stats.Out);

        Assert.Equal(0, Ds01Cli.RunWith(bed.Env, null, "container-stop", seedName, "--timeout=1").ExitCode);
        Assert.Equal(ContainerState.Stopped.ToString(), bed.Run($"(Get-Ds01Container {seedName}).State").Output.Single().ToString());

        var missing = Ds01Cli.RunWith(bed.Env, null, "container-start", bed.Name("nothing"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("id: ContainerNotFound", missing.Err);

        var retire = Ds01Cli.RunWith(bed.Env, null, "container-retire", seedName, "--force");
        Assert.True(retire.ExitCode == 0, retire.Err);
        Assert.Null(bed.Inspect(bed.Tag("seed")));
    }

    [Fact]
    public void Container_deploy_creates_and_starts()
    {
        using var bed = new DockerTestBed();
        var name = bed.Name("deploy");

        var r = Ds01Cli.RunWith(bed.Env, null, "container-deploy", name, $"--image={Img}", "--gpu=0");

        Assert.True(r.ExitCode == 0, r.Err);
        Assert.True(bed.Inspect(bed.Tag("deploy"))!.State!.Running);
    }
}

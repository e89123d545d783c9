using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>A user never touches another user's containers: checked as a real unprivileged account (nobody).</summary>
[Collection("engine")]
public class OwnershipTests
{
    private static readonly (int, int) Nobody = (65534, 65534);

    [Fact]
    public void An_ordinary_user_cannot_act_on_another_users_container_by_name_by_user_or_through_the_pipeline()
    {
        using var bed = new DockerTestBed();
        var n = bed.Name("owned");
        Assert.Empty(bed.Run($"New-Ds01Container {n} -Image {DockerTestBed.BusyboxImage} -GpuCount 0; Start-Ds01Container {n}").Errors);

        var byUser = Ds01Cli.RunWith(bed.Env, Nobody, "-c", $"Stop-Ds01Container {n} -User {Environment.UserName}");
        Assert.Equal(1, byUser.ExitCode);
        Assert.Contains("category: PermissionDenied", byUser.Err);
        Assert.Contains("id: NotAnAdmin", byUser.Err);

        // By name alone it resolves to nobody's own (non-existent) container, never to root's.
        var byName = Ds01Cli.RunWith(bed.Env, Nobody, "-c", $"Remove-Ds01Container {n} -Stop -Force");
        Assert.Equal(1, byName.ExitCode);
        Assert.Contains("category: ObjectNotFound", byName.Err);

        // Listing everyone's is allowed (read-only, like mlc list -au); acting on them is not.
        var piped = Ds01Cli.RunWith(bed.Env, Nobody, "-c", $"Get-Ds01Container -AllUsers -Name {n} | Stop-Ds01Container -Force");
        Assert.Equal(1, piped.ExitCode);
        Assert.Contains("category: PermissionDenied", piped.Err);

        Assert.True(bed.Inspect(bed.Tag("owned"))!.State!.Running, "root's container is untouched");

        // Admins may (root is one).
        Assert.Empty(bed.Run($"Stop-Ds01Container {n} -User {Environment.UserName} -Kill").Errors);
    }
}

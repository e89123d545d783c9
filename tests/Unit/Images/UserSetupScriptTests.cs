using Ds01.Core;
using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Unit.Images;

public class UserSetupScriptTests
{
    [Fact]
    public void The_legacy_command_passes_values_as_arguments_not_script_text()
    {
        var argv = UserSetupScript.Command(1722830498, 1722800513, "h-baker-at-hertie-school-lan");
        Assert.Equal(["/bin/sh", "-c"], argv.Take(2));
        Assert.Equal(["sh", "1722830498", "1722800513", "h-baker-at-hertie-school-lan"], argv.Skip(3));
        Assert.Contains("uid=$1; gid=$2; name=$3", argv[2]);
        Assert.DoesNotContain("1722830498", argv[2]);
        Assert.DoesNotContain("h-baker", argv[2]);
    }

    [Fact]
    public void Both_paths_run_the_same_setup_body()
    {
        var dockerfile = UserSetupScript.ForDockerfile(1001, 1001, "alice");
        var legacy = UserSetupScript.Command(1001, 1001, "alice")[2];
        // Same statements, only the separator differs (a Dockerfile RUN continues lines with '\').
        var fromDockerfile = dockerfile.Split("; \\\n    ").Skip(2);
        var fromLegacy = legacy.Split("; ").SkipWhile(s => !s.StartsWith("shell=", StringComparison.Ordinal));
        Assert.Equal(string.Join("; ", fromDockerfile), string.Join("; ", fromLegacy));
        Assert.Contains("else tool=files", legacy);
    }

    [Theory]
    [InlineData("alice; rm -rf /", 1001, 1001)]
    [InlineData("-root", 1001, 1001)]
    [InlineData("alice", -1, 1001)]
    [InlineData("alice", 1001, -5)]
    public void Bad_values_never_reach_a_shell(string name, int uid, int gid) =>
        Assert.Throws<Ds01Exception>(() => UserSetupScript.Command(uid, gid, name));
}

using System.Text.RegularExpressions;
using Ds01.Core;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>The module has one version: the one the assemblies carry, stamped into the staged manifest by the build.</summary>
public class ModuleVersionTests
{
    [Fact]
    public void The_staged_manifest_carries_the_assemblies_version()
    {
        var text = File.ReadAllText(RepoPaths.ModuleManifest);
        var manifest = Regex.Match(text, @"ModuleVersion\s*=\s*'([^']*)'").Groups[1].Value;
        Assert.Equal(typeof(Ds01Session).Assembly.GetName().Version!.ToString(3), manifest);
    }
}

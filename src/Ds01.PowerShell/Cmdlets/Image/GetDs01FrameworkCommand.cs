using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>The AIME framework images this server can build from (ml_images.repo), for its GPU architecture.</summary>
[Cmdlet(VerbsCommon.Get, "Ds01Framework")]
[OutputType(typeof(Ds01Framework))]
public sealed class GetDs01FrameworkCommand : Ds01Cmdlet
{
    /// <summary>Framework name, case-insensitive (pytorch = Pytorch).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Framework")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FrameworkNameCompleter))]
    public string? Name { get; set; }

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Version { get; set; }

    /// <summary>Default: gpu-config.yaml's architecture, else detected from the GPUs; '*' lists every architecture.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Architecture { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var frameworks = new FrameworkCatalog(Session);
        var arch = Architecture == "*" ? null : Architecture ?? frameworks.Architecture;
        if (arch is not null) WriteVerbose($"Architecture {arch}.");
        WriteObject(frameworks.Load().Find(Name, Version, arch), enumerateCollection: true);
    });
}

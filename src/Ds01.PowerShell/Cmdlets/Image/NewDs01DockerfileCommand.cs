using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>Generates a project's Dockerfile (framework → Jupyter → data science → use case → packages → user) without building.</summary>
[Cmdlet(VerbsCommon.New, "Ds01Dockerfile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(string))]
public sealed class NewDs01DockerfileCommand : Ds01DockerfileCmdlet
{
    /// <summary>Also write the text to this file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        var text = GenerateDockerfile(owner);
        if (OutFile is not null)
        {
            var path = GetUnresolvedProviderPathFromPSPath(OutFile);
            if (ShouldProcess(path, "Write Dockerfile")) File.WriteAllText(path, text);
        }
        WriteObject(text);
    });
}

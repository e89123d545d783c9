using System.Management.Automation;

namespace Ds01.PowerShell.Cmdlets;

/// <summary>Runs a program in a running container without a terminal: stdout as strings, stderr as errors, $LASTEXITCODE set.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Ds01ContainerCommand", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(string))]
public sealed class InvokeDs01ContainerCommandCommand : Ds01ContainerCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>The program and its arguments, passed as is (no shell on the host).</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[] Command { get; set; } = Array.Empty<string>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UserNameCompleter))]
    public string? User { get; set; }

    /// <summary>On a cluster: the container's node (from the pipeline, the Ds01Container's Node); left out, each node endpoint is asked.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Node { get; set; }

    /// <summary>Explain each step first and ask for what is missing.</summary>
    [Parameter]
    public SwitchParameter Guided { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        var pick = !MyInvocation.ExpectingInput && string.IsNullOrEmpty(Name);
        if (Guided) RunGuided(pick ? () => ChooseContainer(User) : null);
        else if (pick) Name = ChooseContainer(User);
        RequireValue(nameof(Command), "Program to run (for example: nvidia-smi)");
    }

    protected override void ProcessRecord() => Try(() =>
    {
        var owner = Owner(User);
        if (!ShouldProcess(Name, $"Run '{string.Join(" ", Command)}'")) return;
        var at = Await(ContainersForAsync(Name, owner, Node, Cancellation));
        var result = Await(at.ExecAsync(Name, owner, Command, Cancellation));
        foreach (var line in Lines(result.StdOut)) WriteObject(line);
        foreach (var line in Lines(result.StdErr))
            WriteError(new ErrorRecord(new InvalidOperationException(line), "ContainerCommandStdErr", ErrorCategory.FromStdErr, Name));
        SessionState.PSVariable.Set("global:LASTEXITCODE", (int)result.ExitCode);
        if (result.ExitCode != 0) WriteVerbose($"'{Command[0]}' exited with code {result.ExitCode}.");
    });

    private static IEnumerable<string> Lines(string text)
    {
        if (string.IsNullOrEmpty(text)) yield break;
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var n = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        for (var i = 0; i < n; i++) yield return lines[i];
    }
}

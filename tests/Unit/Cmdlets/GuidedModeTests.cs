using Ds01.Core.Guidance;
using Xunit;

namespace Ds01.Tests.Unit.Cmdlets;

/// <summary>
/// -Guided and the missing-value questions, driven through the real engine by a scripted host (answers as a person
/// would type them). -WhatIf keeps Docker out: the guided steps all happen before anything would change.
/// </summary>
[Collection("engine")]
public class GuidedModeTests
{
    private static Dictionary<string, string?> Env(TempConfig config) => config.Env;

    /// <summary>Each step's explanation is shown, in the flow's order (before the question that belongs to it).</summary>
    private static void AssertStepsInOrder(GuidedFlow flow, string shown)
    {
        var at = 0;
        foreach (var step in flow.Steps)
        {
            var i = shown.IndexOf(step.Explanation, at, StringComparison.Ordinal);
            Assert.True(i >= at, $"{flow.Cmdlet}: step '{step.Title}' not shown in order");
            at = i;
        }
    }

    [Fact]
    public void Guided_create_explains_every_step_from_Core_asks_for_what_is_missing_and_uses_the_answers()
    {
        using var config = new TempConfig();
        var host = new ScriptedHost("thesis", "", "0", "Yes");
        var r = host.Run("New-Ds01Container -Guided -WhatIf", Env(config));
        Assert.Empty(r.Errors);
        var flow = GuidedFlows.Find("New-Ds01Container")!;
        var shown = host.Script.Transcript;
        AssertStepsInOrder(flow, shown);
        Assert.Contains(flow.WhatHappens, shown);
        Assert.Equal(["Name", "Image", "GpuCount"], host.Script.Fields);
        Assert.Equal(GuidedFlow.Confirm, Assert.Single(host.Script.Choices).Message);
        // The answers reached the cmdlet: the WhatIf line names the container and the CPU-only choice.
        Assert.Contains(shown.Split('\n'), l => l.Contains("What if:") && l.Contains("thesis") && l.Contains("CPU-only"));
        Assert.Equal(0, host.Script.AnswersLeft);
    }

    [Fact]
    public void Guided_asks_nothing_for_values_given_and_re_asks_an_answer_out_of_range()
    {
        using var config = new TempConfig();
        var host = new ScriptedHost("99", "two", "2", "Yes");
        var r = host.Run("New-Ds01Container thesis -Image busybox -Guided -WhatIf", Env(config));
        Assert.Empty(r.Errors);
        Assert.Equal(["GpuCount", "GpuCount", "GpuCount"], host.Script.Fields);
        Assert.Contains("'99' is not a valid GpuCount", host.Script.Transcript);
        Assert.Contains(host.Script.Shown, l => l.Contains("What if:") && l.Contains("2 GPU slot(s)"));
    }

    [Fact]
    public void Answering_no_changes_nothing_and_says_so_with_GuidedDeclined()
    {
        using var config = new TempConfig();
        var host = new ScriptedHost("No");
        var r = host.Run("New-Ds01Container thesis -Image busybox -GpuCount 0 -Guided", Env(config));
        var e = r.SingleError();
        Assert.Equal("GuidedDeclined", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(GuidedFlow.Declined, e.ErrorDetails.Message);
        Assert.DoesNotContain(host.Script.Shown, l => l.Contains("Created"));
    }

    [Theory]
    [InlineData("New-Ds01Container -Guided", "GuidedNeedsTerminal")]
    [InlineData("New-Ds01Container", "NameRequired")]
    [InlineData("Start-Ds01Container", "NameRequired")]
    [InlineData("Stop-Ds01Container -Guided", "GuidedNeedsTerminal")]
    [InlineData("Enter-Ds01Container", "NameRequired")]
    [InlineData("Invoke-Ds01ContainerCommand x", "CommandRequired")]
    [InlineData("Build-Ds01Image -Framework pytorch", "ProjectRequired")]
    [InlineData("Initialize-Ds01Project -Guided", "GuidedNeedsTerminal")]
    [InlineData("Initialize-Ds01Project -Framework pytorch", "ProjectRequired")]
    [InlineData("Initialize-Ds01User -Guided", "GuidedNeedsTerminal")]
    public void Without_a_person_to_ask_a_left_out_value_is_a_specific_error_not_a_prompt(string command, string id)
    {
        using var config = new TempConfig();
        // No host: the engine's default host, which cannot prompt (a script, a service).
        var r = PsEngine.Run(command, Env(config));
        var e = r.SingleError();
        Assert.Equal(id, e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.False(string.IsNullOrEmpty(e.ErrorDetails?.RecommendedAction));
    }

    [Fact]
    public void Guided_user_setup_explains_each_step_asks_for_a_starter_container_and_with_WhatIf_changes_nothing()
    {
        using var config = new TempConfig();
        config.Write("resource-limits.yaml", "defaults:\n  cpu_limit: 2\n");
        // An empty answer means no starter container, so Docker is never asked.
        var host = new ScriptedHost("", "Yes");
        var r = host.Run("Initialize-Ds01User -HostName gpu1 -Guided -WhatIf", Env(config));
        Assert.Empty(r.Errors);
        var flow = GuidedFlows.Find("Initialize-Ds01User")!;
        var at = 0;
        foreach (var step in flow.Steps)
        {
            var i = host.Script.Transcript.IndexOf(step.Explanation, at, StringComparison.Ordinal);
            Assert.True(i >= at, $"step '{step.Title}' not shown in order");
            at = i;
        }
        Assert.Equal(["StarterContainer"], host.Script.Fields);
        Assert.Equal(0, host.Script.AnswersLeft);
        var result = Assert.Single(r.Objects<Ds01.Core.Users.Ds01SetupResult>());
        Assert.Equal("", result.Changed);
        Assert.Equal("", result.Container);
        Assert.EndsWith("@gpu1", result.SshCommand);
    }

    [Fact]
    public void A_missing_name_without_guided_is_asked_for_at_a_terminal()
    {
        using var config = new TempConfig();
        var host = new ScriptedHost("asked");
        var r = host.Run("New-Ds01Container -Image busybox -GpuCount 0 -WhatIf", Env(config));
        Assert.Empty(r.Errors);
        Assert.Equal(["Name"], host.Script.Fields);
        Assert.Contains(host.Script.Shown, l => l.Contains("What if:") && l.Contains("asked"));
    }

    /// <summary>
    /// The beginner commands that need neither Docker nor an existing container under -WhatIf: each explains its steps in order, says what will
    /// happen, asks for the value left out, and the answer reaches the cmdlet (its -WhatIf line names it).
    /// </summary>
    [Theory]
    [InlineData("Deploy-Ds01Container -Image busybox -GpuCount 0 -Guided -WhatIf", "Name")]
    [InlineData("Build-Ds01Image -Framework pytorch -Guided -WhatIf", "Project")]
    public void Guided_flows_explain_each_step_ask_for_what_is_missing_and_use_the_answer(string command, string asked)
    {
        using var config = new TempConfig();
        var host = new ScriptedHost("guidedanswer", "Yes");
        var r = host.Run(command, Env(config));
        Assert.True(r.Errors.Count == 0, string.Join("; ", r.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        var flow = GuidedFlows.Find(command.Split(' ')[0])!;
        var shown = host.Script.Transcript;
        AssertStepsInOrder(flow, shown);
        Assert.Contains(flow.WhatHappens, shown);
        Assert.Equal([asked], host.Script.Fields);
        Assert.Contains(host.Script.Shown, l => l.Contains("What if:") && l.Contains("guidedanswer"));
        Assert.Equal(0, host.Script.AnswersLeft);
    }

    [Fact]
    public void Every_guided_command_has_a_flow_and_every_flow_a_command_with_Guided()
    {
        var r = PsEngine.Run("Get-Command -Module Ds01 | Where-Object { $_.Parameters.ContainsKey('Guided') } | ForEach-Object Name");
        Assert.Equal(GuidedFlows.All.Select(f => f.Cmdlet).Order(), r.Output.Select(o => o.ToString()).Order());
    }
}

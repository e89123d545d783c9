using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace Ds01.Tests;

/// <summary>The result of running PowerShell text in a real engine with the built module imported.</summary>
public sealed record PsResult(Collection<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, IReadOnlyList<string> Warnings)
{
    public IEnumerable<T> Objects<T>() => Output.Select(o => o.BaseObject).OfType<T>();
    public ErrorRecord SingleError() => Assert.Single(Errors);
}

/// <summary>
/// Hosts the full PowerShell SDK in-process (Microsoft.PowerShell.SDK: Format-Table, Out-String, Export-Csv,
/// ConvertTo-Json ...) and loads the module exactly as a user's pwsh would:
/// CreateDefault2 + Import-Module of out/Ds01/Ds01.psd1. Environment variables are process-wide, so tests
/// that set DS01_* run in the serial "engine" collection.
/// </summary>
public static class PsEngine
{
    public static PsResult Run(string script, IDictionary<string, string?>? env = null, IDictionary<string, object?>? variables = null)
    {
        var saved = new Dictionary<string, string?>();
        if (env is not null)
            foreach (var (k, v) in env) { saved[k] = Environment.GetEnvironmentVariable(k); Environment.SetEnvironmentVariable(k, v); }
        try
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { RepoPaths.ModuleManifest });
            using var rs = RunspaceFactory.CreateRunspace(iss);
            rs.Open();
            if (variables is not null)
                foreach (var (k, v) in variables) rs.SessionStateProxy.SetVariable(k, v);
            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = rs;
            ps.AddScript(script);
            Collection<PSObject> output;
            var errors = new List<ErrorRecord>();
            try
            {
                output = ps.Invoke();
            }
            catch (RuntimeException e)
            {
                output = new Collection<PSObject>();
                errors.Add(e.ErrorRecord);
            }
            errors.InsertRange(0, ps.Streams.Error);
            return new PsResult(output, errors, ps.Streams.Warning.Select(w => w.Message).ToList());
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }
}

[CollectionDefinition("engine", DisableParallelization = true)]
public sealed class EngineCollection { }

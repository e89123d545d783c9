using System.Management.Automation;
using System.Management.Automation.Host;

namespace Ds01.Cli;

/// <summary>Writes error records for people and for grep: one "ds01:" line, then id and hint lines.</summary>
public static class ErrorWriter
{
    public static string Format(ErrorRecord record)
    {
        var lines = new List<string> { $"ds01: {Message(record)}" };

        var details = new List<string>();
        if (!string.IsNullOrEmpty(record.FullyQualifiedErrorId)) details.Add($"id: {record.FullyQualifiedErrorId}");
        details.Add($"category: {record.CategoryInfo.Category}");
        if (record.TargetObject is not null) details.Add($"target: {LanguagePrimitives.ConvertTo<string>(record.TargetObject)}");
        lines.Add("  " + string.Join("  ", details));

        var hint = record.ErrorDetails?.RecommendedAction;
        if (!string.IsNullOrWhiteSpace(hint)) lines.Add($"  hint: {hint}");

        return string.Join(Environment.NewLine, lines);
    }

    public static string Message(ErrorRecord record)
    {
        var message = record.ErrorDetails?.Message;
        // A prompt refused inside $PSCmdlet.ShouldProcess arrives wrapped as "Exception calling ...";
        // the host's own reason is what the user needs to read.
        var exception = record.Exception is MethodInvocationException { InnerException: HostException inner }
            ? inner : record.Exception;
        if (string.IsNullOrWhiteSpace(message)) message = exception?.Message;
        return string.IsNullOrWhiteSpace(message) ? record.FullyQualifiedErrorId : message;
    }

    public static void Write(TextWriter error, ErrorRecord record)
    {
        error.WriteLine(Format(record));
        error.Flush();
    }
}

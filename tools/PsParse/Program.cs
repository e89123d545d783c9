// Usage: PsParse <file>...   Prints file:line:col: message for each parse error; exit 1 if any, 2 on bad usage.
using System.Management.Automation.Language;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: PsParse <file.ps1|.psm1|.psd1>...");
    return 2;
}

var failed = 0;
foreach (var path in args)
{
    if (!File.Exists(path))
    {
        Console.WriteLine($"{path}:0:0: file not found");
        failed++;
        continue;
    }
    Parser.ParseFile(Path.GetFullPath(path), out _, out var errors);
    foreach (var e in errors)
        Console.WriteLine($"{path}:{e.Extent.StartLineNumber}:{e.Extent.StartColumnNumber}: {e.Message} [{e.ErrorId}]");
    if (errors.Length > 0) failed++;
}
Console.WriteLine($"PsParse: {args.Length} file(s), {failed} with errors");
return failed > 0 ? 1 : 0;

using Ds01.Tools.HelpGen;

// HelpGen <docs/cmdlets dir> <output MAML file>: every *.md page becomes one command in the MAML file.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: HelpGen <markdown-dir> <output.xml>");
    return 2;
}
var pages = Directory.GetFiles(args[0], "*.md").OrderBy(f => f, StringComparer.Ordinal).ToList();
if (pages.Count == 0)
{
    Console.Error.WriteLine($"{args[0]}: error HELP001: no *.md pages");
    return 1;
}
try
{
    var commands = pages.Select(MarkdownHelpParser.ParseFile).ToList();
    foreach (var (page, command) in pages.Zip(commands))
        if (!string.Equals(Path.GetFileNameWithoutExtension(page), command.Name, StringComparison.OrdinalIgnoreCase))
            throw new HelpFormatException(Path.GetFileName(page), 1, $"title '# {command.Name}' does not match the file name");
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[1]))!);
    MamlWriter.Write(commands).Save(args[1]);
    Console.WriteLine($"HelpGen: {commands.Count} commands -> {args[1]}");
    return 0;
}
catch (HelpFormatException e)
{
    // MSBuild's canonical error format, so the failing page and line show up in the build output.
    Console.Error.WriteLine($"{Path.Combine(args[0], e.File)}({e.Line}): error HELP002: {e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]}");
    return 1;
}

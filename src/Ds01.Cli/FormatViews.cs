using System.Xml.Linq;

namespace Ds01.Cli;

public enum ColumnAlignment { Undefined, Left, Center, Right }

/// <summary>One column of a table view: its header and where its value comes from.</summary>
public sealed record TableColumnSpec(
    string Label, int? Width, ColumnAlignment Alignment, string? PropertyName, string? ScriptBlock);

/// <summary>A TableControl view and the type names it is selected by.</summary>
public sealed record TableView(string Name, IReadOnlyList<string> TypeNames, IReadOnlyList<TableColumnSpec> Columns);

/// <summary>
/// The table views of the module's .format.ps1xml files. The embedded engine has no
/// Format-Table, so the CLI reads the same XML pwsh would and renders the default view itself.
/// </summary>
public sealed class FormatViews
{
    private readonly Dictionary<string, TableView> _byType = new(StringComparer.OrdinalIgnoreCase);

    public static FormatViews Empty { get; } = new([]);

    public FormatViews(IEnumerable<TableView> views)
    {
        // pwsh uses the first view registered for a type, so later files do not override earlier ones.
        foreach (var view in views)
            foreach (var type in view.TypeNames)
                _byType.TryAdd(type, view);
    }

    public IReadOnlyCollection<TableView> Views => _byType.Values.Distinct().ToArray();

    /// <summary>The view for the first of <paramref name="typeNames"/> (most derived first) that has one.</summary>
    public TableView? Find(IEnumerable<string> typeNames)
    {
        foreach (var name in typeNames)
            if (_byType.TryGetValue(name, out var view)) return view;
        return null;
    }

    /// <summary>Reads every file; a file that cannot be read is passed to <paramref name="onError"/> and skipped.</summary>
    public static FormatViews Load(IEnumerable<string> paths, Action<string, Exception>? onError = null)
    {
        var views = new List<TableView>();
        foreach (var path in paths)
        {
            try { views.AddRange(Parse(XDocument.Load(path))); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Xml.XmlException)
            {
                onError?.Invoke(path, ex);
            }
        }
        return new FormatViews(views);
    }

    public static IReadOnlyList<TableView> Parse(XDocument document)
    {
        var views = new List<TableView>();
        foreach (var view in document.Descendants().Where(e => e.Name.LocalName == "View"))
        {
            var table = Child(view, "TableControl");
            if (table is null) continue;

            var typeNames = Children(Child(view, "ViewSelectedBy"), "TypeName")
                .Select(t => t.Value.Trim()).Where(t => t.Length > 0).ToArray();
            if (typeNames.Length == 0) continue;

            var headers = Children(Child(table, "TableHeaders"), "TableColumnHeader").ToArray();
            // Entries with EntrySelectedBy serve derived types; the unconditional entry is the default.
            var entries = Children(Child(table, "TableRowEntries"), "TableRowEntry").ToArray();
            var entry = entries.FirstOrDefault(e => Child(e, "EntrySelectedBy") is null) ?? entries.FirstOrDefault();
            var items = Children(Child(entry, "TableColumnItems"), "TableColumnItem").ToArray();

            var columns = new List<TableColumnSpec>();
            for (var i = 0; i < items.Length; i++)
            {
                var header = i < headers.Length ? headers[i] : null;
                var property = Text(Child(items[i], "PropertyName"));
                var script = Text(Child(items[i], "ScriptBlock"));
                var label = Text(Child(header, "Label")) ?? property ?? script ?? "";
                var width = int.TryParse(Text(Child(header, "Width")), out var w) && w > 0 ? w : (int?)null;
                var alignment = Enum.TryParse<ColumnAlignment>(
                    Text(Child(items[i], "Alignment")) ?? Text(Child(header, "Alignment")), true, out var a)
                    ? a : ColumnAlignment.Undefined;
                columns.Add(new TableColumnSpec(label, width, alignment, property, script));
            }

            views.Add(new TableView(Text(Child(view, "Name")) ?? typeNames[0], typeNames, columns));
        }
        return views;
    }

    private static XElement? Child(XElement? parent, string name) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == name);

    private static IEnumerable<XElement> Children(XElement? parent, string name) =>
        parent?.Elements().Where(e => e.Name.LocalName == name) ?? [];

    private static string? Text(XElement? element) =>
        element is null || string.IsNullOrWhiteSpace(element.Value) ? null : element.Value.Trim();
}

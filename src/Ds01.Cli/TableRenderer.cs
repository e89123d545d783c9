using System.Collections;
using System.Management.Automation;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ds01.Cli;

/// <summary>A run of output that is printed together.</summary>
public abstract record OutputBlock;

/// <summary>Strings and primitives, one per line.</summary>
public sealed record LinesBlock(IReadOnlyList<string> Lines) : OutputBlock;

/// <summary>Consecutive objects of one shape, as one table.</summary>
public sealed record TableBlock(IReadOnlyList<TableColumnSpec> Columns, IReadOnlyList<IReadOnlyList<string>> Rows) : OutputBlock;

/// <summary>
/// Prints pipeline output the way pwsh's default formatting would: the module's table view
/// when the type has one, otherwise the first properties of the object.
/// </summary>
public sealed class TableRenderer(FormatViews views, ScriptCellEvaluator? evaluator)
{
    /// <summary>pwsh also shows only a handful of properties before switching to a list; a table stays readable.</summary>
    public const int MaxDefaultColumns = 6;

    private static readonly TableColumnSpec[] DictionaryColumns =
    [
        new("Name", null, ColumnAlignment.Undefined, "Name", null),
        new("Value", null, ColumnAlignment.Undefined, "Value", null),
    ];

    /// <summary>Groups the output into blocks; kept apart from drawing so it can be tested as data.</summary>
    public IReadOnlyList<OutputBlock> Plan(IEnumerable<object?> output)
    {
        var blocks = new List<OutputBlock>();
        object? currentKey = null;
        List<string>? lines = null;
        List<IReadOnlyList<string>>? rows = null;

        void Flush()
        {
            if (lines is { Count: > 0 }) blocks.Add(new LinesBlock(lines));
            lines = null;
        }

        foreach (var item in Flatten(output))
        {
            if (HelpText.IsHelp(item))
            {
                Flush();
                currentKey = null;
                rows = null;
                blocks.Add(new LinesBlock(HelpText.Format((PSObject)item!)));
                continue;
            }
            if (ValueText.IsScalar(item))
            {
                if (lines is null) { currentKey = null; rows = null; lines = []; }
                lines.Add(ValueText.Format(item));
                continue;
            }
            Flush();

            var (key, columns, newRows) = Describe(item!);
            if (rows is null || !Equals(key, currentKey))
            {
                rows = [];
                currentKey = key;
                blocks.Add(new TableBlock(columns, rows));
            }
            rows.AddRange(newRows);
        }
        Flush();
        return blocks;
    }

    /// <summary>Draws the blocks; <paramref name="ascii"/> gives +-| borders that scripts can split on.</summary>
    public void Render(IEnumerable<object?> output, IAnsiConsole console, TextWriter writer, bool ascii)
    {
        var first = true;
        foreach (var block in Plan(output))
        {
            if (!first) writer.WriteLine();
            first = false;
            switch (block)
            {
                case LinesBlock l:
                    foreach (var line in l.Lines) writer.WriteLine(line);
                    break;
                case TableBlock t:
                    console.Write(BuildTable(t, ascii));
                    break;
            }
            writer.Flush();
        }
    }

    public static Table BuildTable(TableBlock block, bool ascii)
    {
        var table = new Table { Border = ascii ? TableBorder.Ascii : TableBorder.Rounded };
        foreach (var column in block.Columns)
        {
            // Text, not markup: labels and values may hold [brackets] that markup would eat.
            var tableColumn = new TableColumn(new Text(column.Label));
            if (column.Width is { } width) tableColumn.Width = width;
            tableColumn.Alignment = column.Alignment switch
            {
                ColumnAlignment.Right => Justify.Right,
                ColumnAlignment.Center => Justify.Center,
                _ => Justify.Left,
            };
            table.AddColumn(tableColumn);
        }
        foreach (var row in block.Rows)
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell)));
        return table;
    }

    private (object Key, IReadOnlyList<TableColumnSpec> Columns, IEnumerable<IReadOnlyList<string>> Rows) Describe(object item)
    {
        if (ValueText.Unwrap(item) is IDictionary dict)
        {
            var entries = dict.Keys.Cast<object>()
                .Select(k => (IReadOnlyList<string>)[ValueText.Format(k), ValueText.Format(dict[k])]);
            return (DictionaryColumns, DictionaryColumns, entries.ToArray());
        }

        var ps = PSObject.AsPSObject(item);
        if (views.Find(ps.TypeNames) is { } view)
            return (view, view.Columns, [view.Columns.Select(c => ValueText.Format(CellValue(ps, c))).ToArray()]);

        var names = ReadableProperties(ps).Take(MaxDefaultColumns).Select(p => p.Name).ToArray();
        var columns = names.Select(n => new TableColumnSpec(n, null, ColumnAlignment.Undefined, n, null)).ToArray();
        // Same type name and same property names: a list of pscustomobjects with different shapes stays apart.
        var key = (ps.TypeNames.FirstOrDefault() ?? "") + "|" + string.Join("|", names);
        return (key, columns, [columns.Select(c => ValueText.Format(PropertyValue(ps, c.PropertyName!))).ToArray()]);
    }

    private object? CellValue(PSObject row, TableColumnSpec column)
    {
        if (column.PropertyName is { } name) return PropertyValue(row, name);
        if (column.ScriptBlock is { } script && evaluator is not null) return evaluator.Evaluate(script, row);
        return null;
    }

    internal static IEnumerable<PSPropertyInfo> ReadableProperties(PSObject ps) =>
        ps.Properties.Where(p => p.IsGettable && p.MemberType is PSMemberTypes.Property or PSMemberTypes.NoteProperty
            or PSMemberTypes.AliasProperty or PSMemberTypes.ScriptProperty or PSMemberTypes.CodeProperty);

    internal static object? PropertyValue(PSObject ps, string name)
    {
        try { return ps.Properties[name]?.Value; }
        // A getter that throws shows as empty, as in pwsh, rather than losing the rest of the output.
        catch (Exception ex) when (ex is GetValueException or ExtendedTypeSystemException) { return null; }
    }

    /// <summary>A collection written as one object (`,@(1,2)`) shows its items, as pwsh does.</summary>
    private static IEnumerable<object?> Flatten(IEnumerable<object?> output)
    {
        foreach (var item in output)
        {
            if (ValueText.Unwrap(item) is IEnumerable items and not string and not IDictionary)
                foreach (var inner in items) yield return inner;
            else
                yield return item;
        }
    }
}

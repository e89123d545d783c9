using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ds01.Cli;

/// <summary>
/// Writes pipeline output as one JSON array for scripts. The engine has no ConvertTo-Json,
/// so this walks PSObject properties the way it would: adapted .NET properties plus note properties.
/// </summary>
public static class JsonRenderer
{
    /// <summary>Deeper objects are written as their string form, as ConvertTo-Json does, so cycles end.</summary>
    public const int MaxDepth = 3;

    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        // Output goes to a terminal or a script, never into HTML; keep names like "café" readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Serialize(IEnumerable<object?> output)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            writer.WriteStartArray();
            foreach (var item in output) WriteValue(writer, item, 0);
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static void Write(TextWriter writer, IEnumerable<object?> output)
    {
        writer.WriteLine(Serialize(output));
        writer.Flush();
    }

    private static void WriteValue(Utf8JsonWriter w, object? value, int depth)
    {
        var wrapped = value as PSObject;
        switch (ValueText.Unwrap(value))
        {
            case null: w.WriteNullValue(); return;
            case string s: w.WriteStringValue(s); return;
            case char c: w.WriteStringValue(c.ToString()); return;
            case bool b: w.WriteBooleanValue(b); return;
            case Enum e: w.WriteStringValue(e.ToString()); return;
            case DateTimeOffset dto: w.WriteStringValue(dto); return;
            case DateTime dt: w.WriteStringValue(dt); return;
            case TimeSpan ts: w.WriteStringValue(ts.ToString("c", CultureInfo.InvariantCulture)); return;
            case Guid g: w.WriteStringValue(g); return;
            case double d when !double.IsFinite(d): w.WriteStringValue(d.ToString(CultureInfo.InvariantCulture)); return;
            case float f when !float.IsFinite(f): w.WriteStringValue(f.ToString(CultureInfo.InvariantCulture)); return;
            case byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal:
                w.WriteRawValue(Convert.ToString(ValueText.Unwrap(value), CultureInfo.InvariantCulture)!, skipInputValidation: true);
                return;
            case Version or Uri: w.WriteStringValue(ValueText.Unwrap(value)!.ToString()); return;
            case var _ when depth >= MaxDepth: w.WriteStringValue(ValueText.Format(value)); return;
            case IDictionary dict:
                w.WriteStartObject();
                foreach (DictionaryEntry entry in dict)
                {
                    w.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteValue(w, entry.Value, depth + 1);
                }
                w.WriteEndObject();
                return;
            case IEnumerable items:
                w.WriteStartArray();
                foreach (var item in items) WriteValue(w, item, depth + 1);
                w.WriteEndArray();
                return;
            case var obj:
                // Keep the PSObject when there is one: its note properties live on the wrapper.
                var ps = wrapped ?? PSObject.AsPSObject(obj);
                w.WriteStartObject();
                foreach (var property in TableRenderer.ReadableProperties(ps))
                {
                    w.WritePropertyName(property.Name);
                    WriteValue(w, TableRenderer.PropertyValue(ps, property.Name), depth + 1);
                }
                w.WriteEndObject();
                return;
        }
    }
}

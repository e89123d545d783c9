using System.Text.Json;
using System.Text.Json.Nodes;
using Ds01.Service.Proxy;

namespace Ds01.Service.Policy;

/// <summary>
/// Field access with Go's encoding/json rules, which dockerd uses: names match case-insensitively, with Unicode
/// folding ('ſ' is 's', the Kelvin sign is 'k'). A body that spells one field twice under that folding is refused,
/// so the value checked here is the value dockerd applies ("hostconfig":{"privileged":true} is no way around).
/// </summary>
internal static class JsonFields
{
    public static string Fold(string name) => name.ToLowerInvariant().Replace('\u017f', 's').Replace('\u212a', 'k');

    /// <summary>Parses a body, refusing duplicate (folded) names at any depth.</summary>
    public static JsonObject ParseObject(byte[] body, string what)
    {
        try
        {
            using (var doc = JsonDocument.Parse(body))
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Deny.BadRequest("InvalidRequestBody", $"The {what} body is not a JSON object.", what);
                CheckDuplicates(doc.RootElement, what);
            }
            return JsonNode.Parse(body)!.AsObject();
        }
        catch (JsonException e)
        {
            throw Deny.BadRequest("InvalidRequestBody", $"The {what} body is not valid JSON: {e.Message}", what);
        }
    }

    private static void CheckDuplicates(JsonElement e, string what)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in e.EnumerateObject())
            {
                if (!seen.Add(Fold(p.Name)))
                    throw Deny.BadRequest("AmbiguousRequestField", $"The {what} body names the field '{p.Name}' more than once (Docker ignores case).", p.Name);
                CheckDuplicates(p.Value, what);
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray()) CheckDuplicates(item, what);
        }
    }

    public static string? KeyOf(JsonObject o, string name) => o.Select(p => p.Key).FirstOrDefault(k => Fold(k) == Fold(name));

    public static JsonNode? Get(JsonObject? o, string name) => o is null || KeyOf(o, name) is not { } k ? null : o[k];

    public static JsonObject? Obj(JsonObject? o, string name) => Get(o, name) switch
    {
        null => null,
        JsonObject x => x,
        _ => throw Deny.BadRequest("InvalidRequestField", $"'{name}' must be an object.", name),
    };

    public static bool Bool(JsonObject? o, string name) => Get(o, name) switch
    {
        null => false,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        _ => throw Deny.BadRequest("InvalidRequestField", $"'{name}' must be true or false.", name),
    };

    public static string? Str(JsonObject? o, string name) => Get(o, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw Deny.BadRequest("InvalidRequestField", $"'{name}' must be a string.", name),
    };

    public static long Num(JsonObject? o, string name) => Get(o, name) switch
    {
        null => 0,
        JsonValue v when v.TryGetValue<long>(out var n) => n,
        JsonValue v when v.TryGetValue<double>(out var d) && d % 1 == 0 => (long)d,
        _ => throw Deny.BadRequest("InvalidRequestField", $"'{name}' must be a whole number.", name),
    };

    public static JsonArray? Arr(JsonObject? o, string name) => Get(o, name) switch
    {
        null => null,
        JsonArray a => a,
        _ => throw Deny.BadRequest("InvalidRequestField", $"'{name}' must be a list.", name),
    };

    public static IReadOnlyList<string> Strings(JsonObject? o, string name) => (Arr(o, name) ?? new JsonArray()).Select(n =>
        n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Deny.BadRequest("InvalidRequestField", $"'{name}' must be a list of strings.", name)).ToList();

    /// <summary>A non-empty value (list or object) counts as set; null, [] and {} do not.</summary>
    public static bool IsSet(JsonObject? o, string name) => Get(o, name) switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject x => x.Count > 0,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length > 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        _ => true,
    };

    /// <summary>Sets a field under its existing spelling, or the canonical one.</summary>
    public static void Set(JsonObject o, string name, JsonNode? value) => o[KeyOf(o, name) ?? name] = value;
}

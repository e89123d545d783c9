using System.Text.Json;

namespace Ds01.Core.Docker;

/// <summary>
/// The error body ds01d answers with: Docker's own {"message": ...} (so the docker CLI prints it) plus a "ds01"
/// object with the error id, kind, target and recommended action, from which the client rebuilds the same
/// Ds01Exception (and so the same error record) it would have raised itself.
/// </summary>
public static class ServiceError
{
    public static byte[] Serialize(Ds01Exception e)
    {
        var message = e.RecommendedAction is null ? $"ds01: {e.Message}" : $"ds01: {e.Message} {e.RecommendedAction}";
        return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["message"] = message,
            ["ds01"] = new Dictionary<string, object?>
            {
                ["error_id"] = e.ErrorId,
                ["kind"] = e.Kind.ToString(),
                ["message"] = e.Message,
                ["target"] = e.Target?.ToString(),
                ["recommended_action"] = e.RecommendedAction,
            },
        });
    }

    /// <summary>The HTTP status for a refusal: 403 for rights, 409 for quota and busy GPUs, 400 for malformed requests.</summary>
    public static int StatusFor(Ds01ErrorKind kind) => kind switch
    {
        Ds01ErrorKind.PermissionDenied => 403,
        Ds01ErrorKind.QuotaExceeded or Ds01ErrorKind.ResourceUnavailable or Ds01ErrorKind.ResourceBusy or Ds01ErrorKind.AlreadyExists => 409,
        Ds01ErrorKind.InvalidArgument or Ds01ErrorKind.InvalidData => 400,
        Ds01ErrorKind.NotFound => 404,
        Ds01ErrorKind.OperationTimeout or Ds01ErrorKind.ConnectionError => 503,
        _ => 500,
    };

    public static Ds01Exception? TryParse(string? body, Exception? inner = null)
    {
        if (string.IsNullOrEmpty(body) || !body.Contains("\"ds01\"", StringComparison.Ordinal)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("ds01", out var d) || d.ValueKind != JsonValueKind.Object) return null;
            string? S(string name) => d.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var id = S("error_id");
            if (id is null || !Enum.TryParse<Ds01ErrorKind>(S("kind"), out var kind)) return null;
            return new Ds01Exception(kind, id, S("message") ?? id, S("target"), S("recommended_action"), inner);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

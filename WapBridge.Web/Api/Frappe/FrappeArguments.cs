using System.Collections;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using WapBridge.Core.Common;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// Frappe's argument rules (contract §1): a non-empty JSON body is the only source; otherwise the
/// query string merged with a form body, the form winning. A body labelled JSON that does not parse is
/// tried as a form before it is rejected, because ERPNext sends such bodies.
/// </summary>
public static partial class FrappeArguments
{
    public static async Task<JsonObject> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var contentType = request.ContentType ?? "";
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            return Merge(request.Query, form.Select(f => new KeyValuePair<string, StringValues>(f.Key, f.Value)));
        }

        var body = await ReadBodyAsync(request, ct);
        if (body.Length == 0 || string.IsNullOrWhiteSpace(body))
            return Merge(request.Query, []);

        var labelledJson = IsJsonContentType(contentType);
        if (labelledJson || body.TrimStart().StartsWith('{'))
        {
            JsonNode? parsed = null;
            string? parseError = null;
            try
            {
                parsed = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
            }
            catch (JsonException e)
            {
                parseError = e.Message;
            }
            if (parsed is JsonObject json)
                return json;
            if (parsed is not null)
                throw WapBridgeException.Invalid("body", "invalid_json", "The JSON body must be an object of named arguments, e.g. {\"to_number\": \"…\"}");
            if (TryParseForm(body) is { } mislabelled)
                return Merge(request.Query, mislabelled);
            throw WapBridgeException.Invalid("body", "invalid_json", $"The request body is not valid JSON: {parseError}");
        }

        return TryParseForm(body) is { } form2
            ? Merge(request.Query, form2)
            : throw WapBridgeException.Invalid("body", "unreadable_body",
                $"Cannot read arguments from a '{contentType}' body; send JSON (application/json) or a form (application/x-www-form-urlencoded).");
    }

    /// <summary>
    /// Binds raw arguments to <typeparamref name="TArgs"/>, coercing what forms and query strings can only
    /// carry as text: numbers, booleans, and lists or objects sent as JSON strings.
    /// </summary>
    public static TArgs Bind<TArgs>(JsonObject raw)
    {
        var typeInfo = FrappeJson.Options.GetTypeInfo(typeof(TArgs));
        var shaped = new JsonObject();
        foreach (var property in typeInfo.Properties)
        {
            var value = Find(raw, property.Name);
            if (value is null)
                continue;
            shaped[property.Name] = Coerce(value.DeepClone(), property);
        }

        try
        {
            return shaped.Deserialize<TArgs>(FrappeJson.Options)
                ?? throw WapBridgeException.Invalid("body", "invalid_arguments", "Arguments are missing");
        }
        catch (JsonException e)
        {
            var field = FieldFromPath(e.Path);
            var property = typeInfo.Properties.FirstOrDefault(p => p.Name == field);
            var expected = property is null ? "of another type" : Describe(property.PropertyType);
            throw WapBridgeException.Invalid(field ?? "body", "invalid_type", $"{field ?? "An argument"} must be {expected}");
        }
    }

    private static JsonNode? Find(JsonObject raw, string name)
    {
        if (raw.TryGetPropertyValue(name, out var exact))
            return exact;
        foreach (var (key, value) in raw)
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                return value;
        return null;
    }

    private static JsonNode? Coerce(JsonNode? value, JsonPropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (value is null)
            return null;

        if (type == typeof(string))
        {
            return value switch
            {
                JsonArray { Count: 1 } single => Coerce(single[0], property),
                JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False =>
                    JsonValue.Create(v.ToJsonString().Trim('"')),
                _ => value,
            };
        }

        if (value is JsonArray { Count: 1 } lone && !IsCollection(type))
            value = lone[0]!.DeepClone();

        var text = value is JsonValue jv && jv.GetValueKind() == JsonValueKind.String ? jv.GetValue<string>().Trim() : null;

        if (type == typeof(bool) && text is not null)
        {
            return text.ToLowerInvariant() switch
            {
                "1" or "true" or "yes" or "on" => JsonValue.Create(true),
                "0" or "false" or "no" or "off" or "" => JsonValue.Create(false),
                _ => throw WapBridgeException.Invalid(property.Name, "invalid_type", $"{property.Name} must be true or false"),
            };
        }
        if (type == typeof(bool) && value is JsonValue num && num.GetValueKind() == JsonValueKind.Number)
            return JsonValue.Create(num.ToJsonString() != "0");

        if (IsNumber(type) && text is not null && text.Length == 0)
            return null;

        if ((IsCollection(type) || IsObject(type)) && text is not null)
        {
            if (text.StartsWith('[') || text.StartsWith('{'))
            {
                try
                {
                    return JsonNode.Parse(text);
                }
                catch (JsonException e)
                {
                    throw WapBridgeException.Invalid(property.Name, "invalid_json", $"{property.Name} is not valid JSON: {e.Message}");
                }
            }
            if (IsCollection(type))
                return new JsonArray(SplitList(text).Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        }
        return value;
    }

    private static IEnumerable<string> SplitList(string text) =>
        text.Split([',', '\n', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsNumber(Type t) =>
        t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(decimal) || t == typeof(float) || t == typeof(short);

    private static bool IsCollection(Type t) => t != typeof(string) && t != typeof(JsonNode) && t != typeof(JsonObject) && typeof(IEnumerable).IsAssignableFrom(t);

    private static bool IsObject(Type t) =>
        t == typeof(JsonNode) || t == typeof(JsonObject) || t == typeof(JsonElement) ||
        (t.IsClass && t != typeof(string) && !IsCollection(t));

    private static string Describe(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(int) || t == typeof(long) || t == typeof(short)) return "a whole number";
        if (IsNumber(t)) return "a number";
        if (t == typeof(bool)) return "true or false";
        if (t == typeof(string)) return "a string";
        if (t == typeof(DateTimeOffset) || t == typeof(DateTime)) return "an ISO 8601 date-time";
        if (IsCollection(t)) return "a list";
        return "an object";
    }

    private static string? FieldFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path)) return null;
        var match = PathField().Match(path);
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"^\$\.?(?:\[')?([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex PathField();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_\[\]\.]*$")]
    private static partial Regex ArgumentName();

    private static bool IsJsonContentType(string contentType)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A form body, when every key looks like an argument name; otherwise null.</summary>
    private static IEnumerable<KeyValuePair<string, StringValues>>? TryParseForm(string body)
    {
        var parsed = QueryHelpers.ParseQuery(body.Trim());
        return parsed.Count > 0 && parsed.Keys.All(k => ArgumentName().IsMatch(k)) ? parsed : null;
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        return await reader.ReadToEndAsync(ct);
    }

    private static JsonObject Merge(IQueryCollection query, IEnumerable<KeyValuePair<string, StringValues>> form)
    {
        var result = new JsonObject();
        foreach (var (key, values) in query)
            result[key] = ToNode(values);
        foreach (var (key, values) in form)
            result[key] = ToNode(values);
        return result;
    }

    private static JsonNode? ToNode(StringValues values) => values.Count switch
    {
        0 => null,
        1 => JsonValue.Create(values[0]),
        _ => new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
    };
}

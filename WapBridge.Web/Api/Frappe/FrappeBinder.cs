using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// Turns raw arguments into a method's typed arguments record. Every read is typed: a value of the wrong JSON kind
/// (a list where text is expected, text that is not valid Unicode, a number that is not finite or out of range) is a
/// 417 naming the argument, never an exception from deep inside. Forms and query strings can only carry text, so text
/// is also read as numbers, booleans and dates, and lists or objects arrive as JSON strings (contract §1).
/// </summary>
public static class FrappeBinder
{
    private static readonly ConcurrentDictionary<Type, ArgumentsShape> Shapes = new();

    /// <summary>The arguments <typeparamref name="TArgs"/> takes; throws at start-up for a type the binder cannot read.</summary>
    public static ArgumentsShape ShapeOf<TArgs>() => ShapeOf(typeof(TArgs));

    private static ArgumentsShape ShapeOf(Type type) => Shapes.GetOrAdd(type, t => new ArgumentsShape(t));

    /// <summary>The shape of a type some method takes as its arguments (or inside them); null for any other type.</summary>
    public static ArgumentsShape? DescribedShape(Type type) => Shapes.GetValueOrDefault(type);

    public static TArgs Bind<TArgs>(FrappeArgumentSet arguments) =>
        (TArgs)ShapeOf<TArgs>().Create(name => arguments.TryGet(name, out var value) ? value : null, "");

    /// <summary>An arguments record: its constructor and, per parameter, the argument name and how to read it.</summary>
    public sealed class ArgumentsShape
    {
        private readonly ConstructorInfo _constructor;
        private readonly (string Name, Type Type)[] _parameters;

        internal ArgumentsShape(Type type)
        {
            _constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                ?? throw new NotSupportedException($"{type.Name} has no public constructor");
            var naming = FrappeJson.Options.PropertyNamingPolicy!;
            _parameters = _constructor.GetParameters()
                .Select(p => (naming.ConvertName(p.Name!), p.ParameterType))
                .ToArray();
            Required = _constructor.GetParameters()
                .Where(p => p.IsDefined(typeof(FrappeRequiredAttribute), false))
                .Select(p => naming.ConvertName(p.Name!))
                .ToHashSet(StringComparer.Ordinal);
            foreach (var (name, parameterType) in _parameters)
                Check(parameterType, $"{type.Name}.{name}");
            MediaArguments = _parameters.Where(p => p.Type == typeof(MediaUpload)).Select(p => p.Name).ToArray();
        }

        /// <summary>The arguments marked <see cref="FrappeRequiredAttribute"/>: what the OpenAPI document lists as required.</summary>
        public IReadOnlySet<string> Required { get; }

        /// <summary>Every argument the record takes, by its API name.</summary>
        public IReadOnlyList<string> Names => _parameters.Select(p => p.Name).ToArray();

        /// <summary>Arguments that carry a file, streamed into the media store.</summary>
        public IReadOnlyList<string> MediaArguments { get; }

        internal object Create(Func<string, RawArgument?> find, string prefix)
        {
            var values = new object?[_parameters.Length];
            for (var i = 0; i < _parameters.Length; i++)
            {
                var (name, type) = _parameters[i];
                if (find(name) is { } raw)
                    values[i] = Read(raw, type, prefix + name);
            }
            return _constructor.Invoke(values);
        }

        private static void Check(Type type, string where)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (IsScalar(type) || type == typeof(MediaUpload) || typeof(JsonNode).IsAssignableFrom(type))
                return;
            if (ElementOf(type) is { } element)
            {
                if (!IsScalar(element))
                    ShapeOf(element);
                return;
            }
            if (type.IsClass)
            {
                ShapeOf(type);
                return;
            }
            throw new NotSupportedException($"{where}: the API binder cannot read {type.Name} arguments");
        }
    }

    private static bool IsScalar(Type t) =>
        t == typeof(string) || t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(bool) || t == typeof(DateTimeOffset);

    private static Type? ElementOf(Type t) =>
        t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) ? t.GetGenericArguments()[0] : null;

    private static object? Read(RawArgument raw, Type declared, string field)
    {
        var type = Nullable.GetUnderlyingType(declared) ?? declared;
        if (raw.Source == ArgumentSource.Json && raw.Json.ValueKind == JsonValueKind.Null)
            return null;
        if (type == typeof(MediaUpload))
            return ReadMedia(raw, field);
        if (raw.Source == ArgumentSource.Media)
            throw Invalid(field, $"{field} must be {Describe(type)}, not a file");
        if (ElementOf(type) is { } element)
            return ReadList(raw, type, element, field);
        if (typeof(JsonNode).IsAssignableFrom(type))
            return ReadNode(raw, type, field);
        if (!IsScalar(type))
            return ReadObject(raw, type, field);

        if (raw.Source == ArgumentSource.Text && raw.Text.Count > 1)
            throw Invalid(field, $"{field} was sent {raw.Text.Count} times; send it once");
        return raw.Source == ArgumentSource.Json ? ReadScalar(raw.Json, type, field) : ReadScalar(raw.Text[0] ?? "", type, field);
    }

    private static MediaUpload? ReadMedia(RawArgument raw, string field)
    {
        if (raw.Source != ArgumentSource.Media)
            throw Invalid(field, $"{field} must be the file's bytes in base64 text (or a multipart file part)");
        var upload = raw.Media;
        // An empty media_data is no media, as before uploads streamed: a text message.
        return upload.Length == 0 && upload.Problem is null && upload.DeclaredName is null ? null : upload;
    }

    private static object? ReadScalar(JsonElement json, Type type, string field)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.String:
                return ReadScalar(TextOf(json, field), type, field);
            case JsonValueKind.Number:
                if (type == typeof(string))
                    return json.GetRawText();
                if (type == typeof(int) || type == typeof(long))
                {
                    if (!json.TryGetInt64(out var whole))
                        throw Invalid(field, $"{field} must be {Describe(type)}");
                    return Whole(whole, type, field);
                }
                if (type == typeof(double))
                    return json.TryGetDouble(out var number) && double.IsFinite(number)
                        ? number
                        : throw Invalid(field, $"{field} must be a finite number");
                if (type == typeof(bool))
                    return json.GetRawText() != "0";
                break;
            case JsonValueKind.True or JsonValueKind.False:
                if (type == typeof(bool))
                    return json.ValueKind == JsonValueKind.True;
                if (type == typeof(string))
                    return json.ValueKind == JsonValueKind.True ? "true" : "false";
                break;
        }
        var kind = json.ValueKind switch
        {
            JsonValueKind.Array => "a list",
            JsonValueKind.Object => "an object",
            JsonValueKind.True or JsonValueKind.False => "true or false",
            _ => "a number",
        };
        throw Invalid(field, $"{field} must be {Describe(type)}, not {kind}");
    }

    private static object? ReadScalar(string text, Type type, string field)
    {
        if (type == typeof(string))
            return Checked(text, field);
        var trimmed = text.Trim();
        if (type == typeof(bool))
        {
            return trimmed.ToLowerInvariant() switch
            {
                "1" or "true" or "yes" or "on" => true,
                "0" or "false" or "no" or "off" or "" => false,
                _ => throw Invalid(field, $"{field} must be true or false"),
            };
        }
        // An empty form field is an argument left out.
        if (trimmed.Length == 0)
            return null;
        if (type == typeof(int) || type == typeof(long))
        {
            if (!long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
                throw Invalid(field, $"{field} must be {Describe(type)}");
            return Whole(whole, type, field);
        }
        if (type == typeof(double))
        {
            return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                ? number
                : throw Invalid(field, $"{field} must be a finite number");
        }
        if (type == typeof(DateTimeOffset))
        {
            return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? at
                : throw Invalid(field, $"{field} must be an ISO 8601 date-time, e.g. 2026-07-31T08:00:00+03:00");
        }
        throw new NotSupportedException(type.Name);
    }

    private static object Whole(long value, Type type, string field) =>
        type == typeof(long) ? value
        : value is >= int.MinValue and <= int.MaxValue ? (object)(int)value
        : throw Invalid(field, $"{field} must be a whole number between {int.MinValue} and {int.MaxValue}");

    private static object ReadList(RawArgument raw, Type listType, Type element, string field)
    {
        var list = (System.Collections.IList)Activator.CreateInstance(listType)!;
        void Add(RawArgument item, int index)
        {
            var name = $"{field}[{index}]";
            if (item.Source == ArgumentSource.Json && item.Json.ValueKind == JsonValueKind.Null)
                throw Invalid(name, $"{name} is null; leave it out of the list");
            list.Add(Read(item, element, name));
        }

        if (raw.Source == ArgumentSource.Text && raw.Text.Count > 1)
        {
            for (var i = 0; i < raw.Text.Count; i++)
                Add(RawArgument.FromText(raw.Text[i]), i);
            return list;
        }
        var json = raw.Source == ArgumentSource.Json ? raw.Json : default;
        if (raw.Source == ArgumentSource.Json && json.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in json.EnumerateArray())
                Add(RawArgument.FromJson(item), i++);
            return list;
        }
        if (raw.Source == ArgumentSource.Json && json.ValueKind != JsonValueKind.String)
            throw Invalid(field, $"{field} must be a list");

        // Text: a JSON list, or (for lists of plain values) items separated by commas, semicolons or new lines.
        var text = (raw.Source == ArgumentSource.Json ? TextOf(json, field) : raw.Text[0] ?? "").Trim();
        if (text.StartsWith('['))
        {
            using var parsed = ParseJson(text, field);
            if (parsed.RootElement.ValueKind != JsonValueKind.Array)
                throw Invalid(field, $"{field} must be a list");
            var i = 0;
            foreach (var item in parsed.RootElement.EnumerateArray())
                Add(RawArgument.FromJson(item), i++);
            return list;
        }
        if (!IsScalar(element))
            throw Invalid(field, $"{field} must be a list of objects");
        var index = 0;
        foreach (var item in text.Split([',', '\n', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Add(RawArgument.FromText(item), index++);
        return list;
    }

    private static object ReadObject(RawArgument raw, Type type, string field)
    {
        if (raw.Source == ArgumentSource.Json && raw.Json.ValueKind == JsonValueKind.Object)
            return Members(raw.Json, type, field);
        var text = raw.Source == ArgumentSource.Json && raw.Json.ValueKind == JsonValueKind.String ? TextOf(raw.Json, field)
            : raw.Source == ArgumentSource.Text && raw.Text.Count == 1 ? raw.Text[0] ?? ""
            : throw Invalid(field, $"{field} must be an object");
        if (!text.TrimStart().StartsWith('{'))
            throw Invalid(field, $"{field} must be an object");
        using var parsed = ParseJson(text, field);
        return Members(parsed.RootElement, type, field);
    }

    private static object Members(JsonElement json, Type type, string field)
    {
        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in json.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                continue;
            }
            members[name] = property.Value;
        }
        return ShapeOf(type).Create(name =>
            members.TryGetValue(name, out var exact) ? RawArgument.FromJson(exact)
            : members.FirstOrDefault(m => string.Equals(m.Key, name, StringComparison.OrdinalIgnoreCase)) is { Key: not null } loose ? RawArgument.FromJson(loose.Value)
            : null, field + ".");
    }

    /// <summary>A JSON value for a <see cref="JsonNode"/> argument, copied out of the request's document, duplicates resolved.</summary>
    private static JsonNode? ReadNode(RawArgument raw, Type type, string field)
    {
        JsonNode? node;
        if (raw.Source == ArgumentSource.Text && raw.Text.Count > 1)
        {
            node = new JsonArray(raw.Text.Select((v, i) => (JsonNode?)JsonValue.Create(Checked(v ?? "", $"{field}[{i}]"))).ToArray());
        }
        else if (raw.Source == ArgumentSource.Json && raw.Json.ValueKind != JsonValueKind.String)
        {
            node = ToNode(raw.Json, field);
        }
        else
        {
            var text = raw.Source == ArgumentSource.Json ? TextOf(raw.Json, field) : raw.Text[0] ?? "";
            var trimmed = text.Trim();
            if (trimmed.StartsWith('[') || trimmed.StartsWith('{'))
            {
                using var parsed = ParseJson(trimmed, field);
                node = ToNode(parsed.RootElement, field);
            }
            else
            {
                node = JsonValue.Create(Checked(text, field));
            }
        }
        if (type == typeof(JsonObject) && node is not JsonObject)
            throw Invalid(field, $"{field} must be an object");
        if (type == typeof(JsonArray) && node is not JsonArray)
            throw Invalid(field, $"{field} must be a list");
        return node;
    }

    private static JsonNode? ToNode(JsonElement json, string field)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var property in json.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        throw Invalid(field, $"{field} holds a name that is not valid text (an unpaired surrogate or invalid UTF-8)");
                    }
                    // The last duplicate wins, as at the top level.
                    obj[Checked(name, field)] = ToNode(property.Value, $"{field}.{name}");
                }
                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray();
                var i = 0;
                foreach (var item in json.EnumerateArray())
                    array.Add(ToNode(item, $"{field}[{i++}]"));
                return array;
            case JsonValueKind.String:
                return JsonValue.Create(TextOf(json, field));
            case JsonValueKind.Number:
                // A copy of the number as written, readable as any numeric type (as JsonNode.Parse gives it), never infinite.
                return json.TryGetDouble(out var number) && double.IsFinite(number)
                    ? JsonValue.Create(json.Clone())
                    : throw Invalid(field, $"{field} is a number out of range");
            case JsonValueKind.True or JsonValueKind.False:
                return JsonValue.Create(json.ValueKind == JsonValueKind.True);
            default:
                return null;
        }
    }

    /// <summary>A JSON string's text; text that cannot be decoded (an unpaired surrogate, invalid UTF-8) is refused.</summary>
    private static string TextOf(JsonElement json, string field)
    {
        try
        {
            return Checked(json.GetString()!, field);
        }
        catch (InvalidOperationException)
        {
            throw WapBridgeException.Invalid(field, "invalid_text", $"{field} is not valid text: it holds an unpaired surrogate (\\ud800…\\udfff) or invalid UTF-8");
        }
    }

    /// <summary>Text as it can be stored: PostgreSQL's text holds no NUL character, so none is accepted anywhere.</summary>
    private static string Checked(string text, string field) =>
        text.Contains('\0')
            ? throw WapBridgeException.Invalid(field, "invalid_text", $"{field} contains a NUL character (\\u0000); remove it")
            : text;

    private static JsonDocument ParseJson(string text, string field)
    {
        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw WapBridgeException.Invalid(field, "invalid_json", $"{field} is not valid JSON: {e.Message}");
        }
    }

    private static string Describe(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(int) || t == typeof(long)) return "a whole number";
        if (t == typeof(double)) return "a number";
        if (t == typeof(bool)) return "true or false";
        if (t == typeof(string)) return "a single value (text)";
        if (t == typeof(DateTimeOffset)) return "an ISO 8601 date-time";
        if (ElementOf(t) is not null || t == typeof(JsonArray)) return "a list";
        return "an object";
    }

    private static WapBridgeException Invalid(string field, string message) => WapBridgeException.Invalid(field, "invalid_type", message);
}

using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WapBridge.Core.Common;

/// <summary>
/// The strings a state enum is stored and shown as: its member name in snake_case (<c>LoggedOut</c> → <c>logged_out</c>),
/// the rule the API's JSON enum converter applies too, so the database, the API, webhooks and the dashboard read the same.
/// </summary>
public static class WireNames
{
    public static string ToWire<T>(this T value) where T : struct, Enum =>
        Map<T>.Names.TryGetValue(value, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(value), value, $"{typeof(T).Name} has no member {value}.");

    public static bool TryFromWire<T>(string? wire, out T value) where T : struct, Enum => Map<T>.Values.TryGetValue(wire ?? "", out value);

    public static T FromWire<T>(string wire) where T : struct, Enum =>
        TryFromWire<T>(wire, out var value) ? value : throw new FormatException($"'{wire}' is not a {typeof(T).Name}: expected one of {string.Join(", ", Map<T>.Names.Values)}.");

    /// <summary>Every member's string, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => Map<T>.Ordered;

    private static class Map<T> where T : struct, Enum
    {
        public static readonly IReadOnlyList<string> Ordered = Enum.GetValues<T>().Select(v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString())).ToArray();
        public static readonly FrozenDictionary<T, string> Names = Enum.GetValues<T>().Zip(Ordered).ToFrozenDictionary(p => p.First, p => p.Second);
        public static readonly FrozenDictionary<string, T> Values = Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }
}

/// <summary>Writes and reads a state enum as its <see cref="WireNames"/> string wherever no other enum converter is configured (webhook payloads).</summary>
public sealed class WireNameJsonConverter<T> : JsonConverter<T> where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        WireNames.TryFromWire<T>(reader.GetString(), out var value) ? value : throw new JsonException($"not a {typeof(T).Name}: expected one of {string.Join(", ", WireNames.All<T>())}");

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToWire());
}

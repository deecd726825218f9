using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace WapBridge.Core.Messaging;

public sealed record LocationContent(double Latitude, double Longitude, string? Name, string? Address);

public sealed record ContactCard(string Name, string Number);

public sealed record ContactsContent(IReadOnlyList<ContactCard> Contacts);

public sealed record PollContent(string Question, IReadOnlyList<string> Options, bool MultipleAnswers);

/// <summary>
/// An approved template (contract §11): a <c>template</c> row's content, or on a free-form text row the instance's
/// fallback template it went out as outside the customer-service window (<see cref="Fallback"/>). <see cref="Components"/>
/// is Graph's <c>components</c> array (the filled-in parameters).
/// </summary>
public sealed record TemplateContent(string Name, string Language, JsonArray? Components, bool? Fallback = null);

/// <summary>
/// The kind-specific part of a message, stored as JSON in <see cref="Message.Content"/> so the outbox sends exactly what
/// was accepted, after a restart too: a <c>location</c>, <c>vcard</c>/<c>multi_vcard</c>, <c>poll_creation</c> or <c>template</c>.
/// </summary>
public static class MessageContent
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write<T>(T content) where T : class => JsonSerializer.Serialize(content, Json);

    public static T? Read<T>(string? json) where T : class => json is null ? null : JsonSerializer.Deserialize<T>(json, Json);
}

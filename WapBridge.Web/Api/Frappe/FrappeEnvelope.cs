using System.Text.Json.Serialization;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// Every success answer: <c>{"message": &lt;result&gt;}</c>, with Frappe's <c>_server_messages</c> when there is
/// something to tell besides the result (arguments the method ignored).
/// </summary>
public sealed record FrappeEnvelope<T>([property: JsonPropertyName("message")] T Message,
    [property: JsonPropertyName("_server_messages"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ServerMessages = null);

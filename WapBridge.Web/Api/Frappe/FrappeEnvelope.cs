using System.Text.Json.Serialization;

namespace WapBridge.Web.Api.Frappe;

/// <summary>Every success answer: <c>{"message": &lt;result&gt;}</c>.</summary>
public sealed record FrappeEnvelope<T>([property: JsonPropertyName("message")] T Message);

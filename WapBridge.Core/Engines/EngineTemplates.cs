namespace WapBridge.Core.Engines;

/// <summary>
/// An approved message template sent as it is (contract §11 <c>whatsapp.send_template</c>, campaigns and the fallback
/// template on a Cloud API instance). <see cref="ComponentsJson"/> is Graph's <c>components</c> array as JSON (body,
/// header and button parameters), null for a template without variables.
/// </summary>
public sealed record OutgoingTemplate(string Name, string Language, string? ComponentsJson) : OutgoingContent
{
    public override string Feature => EngineFeatures.Templates;
}

/// <summary>
/// A template of the business account as Meta lists it: <see cref="Body"/> is the body text with its placeholders
/// (<c>{{1}}</c>, or named <c>{{first_name}}</c>), <see cref="Variables"/> those placeholders' names in order.
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.engine-template")]
public sealed record EngineTemplate(
    [property: Id(0)] string Name,
    [property: Id(1)] string Language,
    [property: Id(2)] string Status,
    [property: Id(3)] string Category,
    [property: Id(4)] string? Body,
    [property: Id(5)] IReadOnlyList<string> Variables);

/// <summary>
/// What a session whose engine has templates does (contract §11 <c>whatsapp.list_templates</c>); a session implements
/// this interface to opt in, the others answer 409 <c>EngineFeatureUnavailable</c> (<see cref="EngineFeatures.Templates"/>).
/// </summary>
public interface IEngineTemplates
{
    /// <summary>Every template of the account (any status: callers filter on <c>APPROVED</c> to send).</summary>
    Task<IReadOnlyList<EngineTemplate>> ListTemplatesAsync(CancellationToken ct = default);
}

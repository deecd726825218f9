using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Contract §11 <c>whatsapp.send_template</c> and <c>whatsapp.list_templates</c>: an approved template goes out through
/// the outbox like every send (a <c>template</c> row, its name, language and components in the row's content); the
/// account's templates are asked from the instance's session, wherever it lives.
/// </summary>
public sealed partial class TemplateService(MessageService messages, EngineRegistry engines, IGrainFactory grains, IOptions<MessagingOptions> options,
    TimeProvider time)
{
    /// <summary>The type of a template message's row.</summary>
    public const string MessageType = "template";

    /// <summary>Meta's status of a template that may be sent.</summary>
    public const string Approved = "APPROVED";

    public const int MaxNameLength = 512;

    /// <summary>Bounds the stored content; real components (a few parameters, buttons) are far smaller.</summary>
    public const int MaxComponentsLength = 16_384;

    public async Task<SendOutcome> SendAsync(ConversationAddress address, string? template, string? language, JsonNode? components, CancellationToken ct = default)
    {
        var instance = await messages.ResolveInstanceAsync(address.CustomerId, address.InstanceCode, address.FromNumber, ct);
        MessageService.EnsureSendable(instance);
        EnsureTemplates(instance, "template");
        var to = WhatsAppNumbers.Normalize(address.ToNumber, "to_number", instance.DefaultCountry);
        var name = Name(template);
        var code = Language(language);
        var content = new TemplateContent(name, code, Components(components));
        var message = OutboundMessages.New(instance, to, name, null, null, MessageSources.Api, null, time.GetUtcNow(), options.Value.QueuedTimeToLive);
        message.Type = MessageType;
        message.Content = MessageContent.Write(content);
        return await messages.SubmitAsync(instance, message, address.Wait, ct);
    }

    /// <summary>Every template of the instance's business account (any status), by name then language.</summary>
    public async Task<IReadOnlyList<EngineTemplate>> ListAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(instanceCode))
            throw WapBridgeException.Missing("instance_id");
        var instance = await messages.FindInstanceAsync(customerId, instanceCode, ct);
        EnsureTemplates(instance, "instance_id");
        var templates = await grains.GetGrain<IInstanceGrain>(instance.Code).ListTemplatesAsync();
        return templates.OrderBy(t => t.Name, StringComparer.Ordinal).ThenBy(t => t.Language, StringComparer.Ordinal).ToList();
    }

    /// <summary>409 <c>EngineFeatureUnavailable</c> unless the instance's engine has templates (only the Cloud API's has).</summary>
    private void EnsureTemplates(Instance instance, string field)
    {
        if (!engines.Supports(instance.Engine, EngineFeatures.Templates))
            throw new WapBridgeException(ErrorKind.EngineFeatureUnavailable, "engine_feature_unavailable",
                $"The instance's engine cannot do templates: they are the WhatsApp Cloud API's; use a Cloud API instance ({instance.Code} runs on {EngineRegistry.DisplayName(instance.Engine)}).",
                field);
    }

    /// <summary>A template name as Meta allows it: lowercase letters, digits and underscores.</summary>
    public static string Name(string? template, string field = "template")
    {
        if (string.IsNullOrWhiteSpace(template))
            throw WapBridgeException.Missing(field);
        var name = template.Trim();
        if (name.Length > MaxNameLength || !NamePattern().IsMatch(name))
            throw WapBridgeException.Invalid(field, "invalid_template",
                $"{field} must be the name of an approved template as Meta shows it: lowercase letters, digits and underscores (e.g. order_update), at most {MaxNameLength} characters");
        return name;
    }

    /// <summary>A template language code as Meta names it (<c>en</c>, <c>en_US</c>, <c>pt_BR</c>).</summary>
    public static string Language(string? language, string field = "language")
    {
        if (string.IsNullOrWhiteSpace(language))
            throw WapBridgeException.Missing(field);
        var code = language.Trim();
        if (!LanguagePattern().IsMatch(code))
            throw WapBridgeException.Invalid(field, "invalid_language",
                $"{field} must be the template's language code as Meta shows it, such as en, en_US or pt_BR");
        return code;
    }

    /// <summary>Graph's <c>components</c> array as given (header, body and button parameters); Graph checks them against the template.</summary>
    private static JsonArray? Components(JsonNode? components)
    {
        if (components is null)
            return null;
        if (components is not JsonArray array || array.Any(c => c is not JsonObject { } o || o["type"] is not JsonValue type || type.GetValueKind() != System.Text.Json.JsonValueKind.String))
            throw WapBridgeException.Invalid("components", "invalid_components",
                "components must be Graph's components array: objects with a \"type\" (header, body or button) and their \"parameters\", e.g. [{\"type\": \"body\", \"parameters\": [{\"type\": \"text\", \"text\": \"Asha\"}]}]");
        if (array.ToJsonString().Length > MaxComponentsLength)
            throw WapBridgeException.Invalid("components", "too_long", $"components is longer than {MaxComponentsLength} characters of JSON");
        return array.Count == 0 ? null : (JsonArray)array.DeepClone();
    }

    [GeneratedRegex("^[a-z0-9_]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$")]
    private static partial Regex LanguagePattern();
}

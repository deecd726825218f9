using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>What the outbox does with a send under the customer-service window rule.</summary>
/// <param name="Fallback">Send this template instead (the instance's fallback template, the text as its parameter).</param>
/// <param name="RefusalCode">Fail the message with this reason (<c>template_required</c>) and <paramref name="Refusal"/>.</param>
public sealed record ServiceWindowDecision(OutgoingTemplate? Fallback = null, string? RefusalCode = null, string? Refusal = null)
{
    public static readonly ServiceWindowDecision Send = new();

    /// <summary>The send as the engine gets it: unchanged, or the fallback template to the same contact.</summary>
    public OutgoingMessage Apply(OutgoingMessage outgoing) =>
        Fallback is null ? outgoing : outgoing with { Text = null, Media = null, Caption = null, Quoted = null, Mentions = null, Content = Fallback };
}

/// <summary>
/// Meta's 24-hour rule at send time (contract §11): on an engine with <see cref="EngineFeatures.ServiceWindow"/>, a
/// free-form message to a contact who has not written in the last 24 hours goes out as the instance's fallback template
/// (text only), or fails with <c>template_required</c>, which Graph would answer anyway (131047) after a wasted call.
/// Templates are never held back.
/// </summary>
public sealed class ServiceWindowRule(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    EngineRegistry engines,
    ServiceWindowStore windows,
    ILogger<ServiceWindowRule> logger)
{
    /// <summary>The language of a fallback template whose instance names none.</summary>
    public const string DefaultLanguage = "en";

    public async Task<ServiceWindowDecision> CheckAsync(Instance instance, Message message, CancellationToken ct)
    {
        if (message.Type == TemplateService.MessageType || message.ToNumber is not { } to || to.Contains('@')
            || !engines.Supports(instance.Engine, EngineFeatures.ServiceWindow)
            || await windows.OpenUntilAsync(instance.Id, to, ct) is not null)
            return ServiceWindowDecision.Send;

        if (instance.FallbackTemplate is { Length: > 0 } name && message is { Type: "chat", MediaHash: null, Body: { } text } && !string.IsNullOrWhiteSpace(text))
        {
            var language = string.IsNullOrWhiteSpace(instance.FallbackTemplateLanguage) ? DefaultLanguage : instance.FallbackTemplateLanguage;
            var components = TemplateParameters.BodyComponents(["1"], [TemplateParameters.Flatten(text)]);
            // The row keeps its text; its content says what went out, so the log and dashboard can show "sent as template".
            var content = MessageContent.Write(new TemplateContent(name, language, components, Fallback: true));
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                await db.Messages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, content), ct);
            message.Content = content;
            logger.LogInformation("{Number} has not written to {Instance} in the last 24 hours: message {MessageId} goes out as template {Template} ({Language})",
                to, instance.Code, message.SerializedId, name, language);
            return new ServiceWindowDecision(Fallback: new OutgoingTemplate(name, language, components?.ToJsonString()));
        }

        return new ServiceWindowDecision(RefusalCode: GraphErrorCodes.TemplateRequired, Refusal:
            $"{to} has not written in the last 24 hours: send an approved template with whatsapp.send_template, " +
            "or set the instance's fallback_template (instances.update_instance) so free-form text goes out as that template.");
    }
}

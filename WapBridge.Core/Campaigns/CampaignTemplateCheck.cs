using Microsoft.Extensions.Logging;
using Orleans;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// A template campaign (contract §11) checked when it is created or given recipients: the instance's engine sends
/// templates, the template is approved in the business account, and every recipient has its variables.
/// </summary>
public sealed class CampaignTemplateCheck(EngineRegistry engines, IGrainFactory grains, ILogger<CampaignTemplateCheck> logger)
{
    /// <summary>
    /// The template a campaign sends instead of a message: only on an engine with templates (Cloud API), never with a
    /// message or media of its own. Null for a free-form campaign.
    /// </summary>
    public (string Name, string Language)? Choice(Instance instance, NewCampaign request)
    {
        if (string.IsNullOrWhiteSpace(request.Template) && string.IsNullOrWhiteSpace(request.Language))
            return null;
        var name = TemplateService.Name(request.Template);
        var language = TemplateService.Language(request.Language);
        if (!engines.Supports(instance.Engine, EngineFeatures.Templates))
            throw WapBridgeException.Invalid("template", "templates_unavailable",
                $"template needs a WhatsApp Cloud API instance; {instance.Code} runs on {EngineRegistry.DisplayName(instance.Engine)}: send message instead, or pick a Cloud API instance");
        if (!string.IsNullOrWhiteSpace(request.Message))
            throw WapBridgeException.Invalid("message", "conflicting_message",
                "send either message (free-form text) or template, not both: a template campaign sends the approved template's own text, filled from each recipient's variables");
        if (request.MediaData is not null)
            throw WapBridgeException.Invalid("media_data", "conflicting_media",
                "a template campaign sends the approved template as it is; leave media_data out (media belongs in the template's header)");
        return (name, language);
    }

    /// <summary>
    /// The template's body from the business account, after checking it is approved and every valid recipient has its
    /// variables (417 otherwise). Null when Meta could not be asked now (the instance is not connected, Graph did not
    /// answer): the campaign is created unchecked, each recipient's values go out in order, and Graph's refusals fail
    /// recipients visibly.
    /// </summary>
    internal async Task<string?> BodyAsync(Instance instance, string name, string language, List<ParsedRecipient> parsed, CancellationToken ct)
    {
        IReadOnlyList<EngineTemplate> templates;
        try
        {
            templates = await grains.GetGrain<IInstanceGrain>(instance.Code).ListTemplatesAsync().WaitAsync(ct);
        }
        catch (Exception e) when (e is WapBridgeException or EngineException or TimeoutException or HttpRequestException)
        {
            logger.LogWarning("Templates of {Instance} could not be read ({Error}); campaign with template {Template} ({Language}) created unchecked",
                instance.Code, e.Message, name, language);
            return null;
        }
        var template = templates.FirstOrDefault(t => t.Name == name && t.Language == language);
        if (template is null)
        {
            var approved = templates.Where(t => t.Status == TemplateService.Approved).Select(t => $"{t.Name} ({t.Language})").Take(20).ToList();
            throw WapBridgeException.Invalid("template", "unknown_template",
                $"The business account has no template {name} in language {language}; " +
                (approved.Count == 0 ? "it has no approved template yet: create one in WhatsApp Manager." : $"approved ones: {string.Join(", ", approved)}."));
        }
        if (template.Status != TemplateService.Approved)
            throw WapBridgeException.Invalid("template", "template_not_approved",
                $"Template {name} ({language}) is {template.Status}; WhatsApp sends only APPROVED templates: wait for Meta's review or pick an approved one.");
        var body = template.Body ?? "";
        CampaignTemplateMessages.EnsureVariables(name, TemplateParameters.VariablesOf(body), CampaignRecipientParser.Valid(parsed));
        return body;
    }
}

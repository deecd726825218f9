using System.Globalization;
using System.Text.Json.Nodes;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// A campaign that sends an approved template (contract §11, Cloud API): each recipient's <c>{{variables}}</c> fill the
/// template's body parameters, named ones by name and numbered ones in order. The template's body, read from Meta when
/// the campaign was created, is kept as the campaign's text: it names the variables and renders what each row shows.
/// </summary>
public static class CampaignTemplateMessages
{
    /// <summary>At most this many recipients are named in a 417 about missing variables.</summary>
    private const int NamedInError = 3;

    /// <summary>The template's variables from its stored body; null when the body could not be read from Meta at creation.</summary>
    public static IReadOnlyList<string>? VariablesOf(Campaign campaign) =>
        campaign.MessageText is null ? null : TemplateParameters.VariablesOf(campaign.MessageText);

    /// <summary>The recipient's <c>template</c> row, or the variables it lacks.</summary>
    public static (Message? Message, IReadOnlyList<string> Missing) New(Campaign campaign, Instance instance, string number, JsonObject? values,
        DateTimeOffset now, TimeSpan timeToLive)
    {
        var variables = VariablesOf(campaign);
        var (filled, missing) = TemplateParameters.ValuesFor(variables, values, number);
        if (missing.Count > 0)
            return (null, missing);
        // Without the body the values go in order, as numbered parameters.
        var names = variables ?? filled.Select((_, i) => (i + 1).ToString(CultureInfo.InvariantCulture)).ToList();
        var body = campaign.MessageText is null ? campaign.TemplateName : TemplateParameters.Render(campaign.MessageText, names, filled);
        var message = OutboundMessages.New(instance, number, body, null, null, MessageSources.Campaign, campaign.Id, now, timeToLive);
        message.Type = TemplateService.MessageType;
        message.Content = MessageContent.Write(new TemplateContent(campaign.TemplateName!, campaign.TemplateLanguage!, TemplateParameters.BodyComponents(names, filled)));
        return (message, []);
    }

    /// <summary>417 naming <c>recipients</c> when valid recipients lack values for the template's variables (checked before anything is stored).</summary>
    public static void EnsureVariables(string template, IReadOnlyList<string> variables, IEnumerable<(int Index, string Input, string Number, JsonObject? Values)> recipients)
    {
        if (variables.Count == 0)
            return;
        var lacking = recipients
            .Select(r => (r.Index, r.Input, TemplateParameters.ValuesFor(variables, r.Values, r.Number).Missing))
            .Where(r => r.Missing.Count > 0)
            .ToList();
        if (lacking.Count == 0)
            return;
        var named = string.Join("; ", lacking.Take(NamedInError).Select(r => $"recipients[{r.Index}] ({r.Input}) lacks {string.Join(", ", r.Missing)}"));
        var more = lacking.Count > NamedInError ? $" and {lacking.Count - NamedInError} more" : "";
        var expected = TemplateParameters.IsPositional(variables)
            ? $"{variables.Count} values, in order or as \"1\"…\"{variables.Count}\""
            : string.Join(", ", variables.Select(v => $"\"{v}\""));
        throw WapBridgeException.Invalid("recipients", "missing_variable",
            $"Template {template} fills {variables.Count} variables: {named}{more}. Give every recipient {expected}, e.g. {{\"phone_number\": \"…\", …}}");
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>What Meta's app dashboard shows for the number (contract §11 <c>create_instance</c> argument <c>cloudapi</c>).</summary>
public sealed record CloudApiInstanceRequest(string? PhoneNumberId, string? BusinessAccountId, string? AccessToken, string? AppSecret, string? VerifyToken);

/// <summary>The new instance, and the callback URL and verify token to enter in Meta's app (Webhooks).</summary>
public sealed record CloudApiInstanceCreated(Instance Instance, string WebhookUrl, string VerifyToken);

/// <summary>A Cloud API instance's set-up, without the access token or app secret (they are never shown again).</summary>
public sealed record CloudApiSetup(string WebhookUrl, string VerifyToken, string PhoneNumberId, string BusinessAccountId, string? FallbackTemplate,
    string? FallbackTemplateLanguage);

/// <summary>Whether Graph answers for the number with that token: its display number and verified name, or why not in plain words.</summary>
public sealed record CloudApiConnectionCheck(bool Ok, string? DisplayPhoneNumber, string? VerifiedName, string? Error);

/// <summary>A change to a Cloud API instance; null leaves a value as it is.</summary>
public sealed record CloudApiInstanceUpdate(string? AccessToken = null, string? AppSecret = null, string? FallbackTemplate = null,
    string? FallbackTemplateLanguage = null, bool ClearFallbackTemplate = false);

/// <summary>
/// Creating and managing Cloud API instances (contract §11), for the API and the dashboard. The instance itself is made
/// by <see cref="InstanceService"/> (quotas, names, zones); this adds Meta's credentials, kept encrypted like every
/// engine's, so the session can connect as soon as the instance opens.
/// </summary>
public sealed partial class CloudApiInstances(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceService instances,
    GraphClient graph,
    IGrainFactory grains,
    IPublicUrls urls,
    IDataProtectionProvider dataProtection,
    ILogger<CloudApiInstances> logger)
{
    public const string EngineName = CloudApiEngine.EngineName;

    /// <summary>The argument the API takes the credentials in, and the prefix of its fields' names in errors.</summary>
    public const string Argument = "cloudapi";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(InstanceCredentialStore.Purpose);

    // A credentials change reads, changes and writes the encrypted JSON: two at once on one instance would lose one.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _updates = new(StringComparer.Ordinal);

    public async Task<CloudApiInstanceCreated> CreateAsync(int customerId, string? name, CloudApiInstanceRequest cloudapi, string? defaultCountry, string? timezone,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(cloudapi);
        var credentials = new CloudApiCredentials(
            GraphId(cloudapi.PhoneNumberId, "phone_number_id", "Phone number ID", "106540352242922"),
            GraphId(cloudapi.BusinessAccountId, "business_account_id", "WhatsApp Business Account ID", "102290129340398"),
            AccessToken(cloudapi.AccessToken, $"{Argument}.access_token"),
            AppSecret(cloudapi.AppSecret, $"{Argument}.app_secret"),
            VerifyToken(cloudapi.VerifyToken));
        var details = await instances.CreateWithCredentialsAsync(customerId, name, EngineName, defaultCountry, timezone, _protector.Protect(credentials.ToJson()), ct);
        var instance = await instances.FindAsync(customerId, details.InstanceId, ct);
        logger.LogInformation("Cloud API instance {Instance} created for phone number id {PhoneNumberId}", instance.Code, credentials.PhoneNumberId);
        return new CloudApiInstanceCreated(instance, WebhookUrl(instance.Code), credentials.VerifyToken);
    }

    /// <summary>The set-up to show again (callback URL, verify token, ids, fallback); null when it is not a Cloud API instance of that customer.</summary>
    public async Task<CloudApiSetup?> GetSetupAsync(int customerId, string instanceId, CancellationToken ct)
    {
        var code = instanceId?.Trim().ToUpperInvariant();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var instance = await db.Instances.AsNoTracking()
            .Where(i => i.Code == code && i.CustomerId == customerId && i.Engine == EngineName)
            .Select(i => new { i.Code, i.EngineCredentials, i.FallbackTemplate, i.FallbackTemplateLanguage })
            .SingleOrDefaultAsync(ct);
        if (instance is null || Unseal(instance.Code, instance.EngineCredentials) is not { } credentials)
            return null;
        return new CloudApiSetup(WebhookUrl(instance.Code), credentials.VerifyToken, credentials.PhoneNumberId, credentials.BusinessAccountId,
            instance.FallbackTemplate, instance.FallbackTemplateLanguage);
    }

    /// <summary>
    /// Asks Graph for the number with that token, as the session will when it connects. Never throws for what Meta or
    /// the network answers: the dashboard shows <see cref="CloudApiConnectionCheck.Error"/>, which names its labels.
    /// </summary>
    public async Task<CloudApiConnectionCheck> TestConnectionAsync(string? phoneNumberId, string? accessToken, CancellationToken ct)
    {
        phoneNumberId = phoneNumberId?.Trim();
        accessToken = accessToken?.Trim();
        if (string.IsNullOrEmpty(phoneNumberId) || !Digits().IsMatch(phoneNumberId))
            return Failed("Phone number ID must be the digits Meta shows under WhatsApp › API Setup, e.g. 106540352242922.");
        if (string.IsNullOrEmpty(accessToken))
            return Failed("Access token is required: paste the system user's permanent token from Meta Business Settings.");
        try
        {
            var number = await graph.GetPhoneNumberAsync(phoneNumberId, accessToken, ct);
            return new CloudApiConnectionCheck(true, number.DisplayPhoneNumber, number.VerifiedName, null);
        }
        catch (GraphException e)
        {
            logger.LogInformation("Test connection for phone number id {PhoneNumberId}: Graph refused with Meta error {MetaCode} (HTTP {HttpStatus})",
                phoneNumberId, e.MetaCode, e.HttpStatus);
            return Failed(Explain(e, phoneNumberId));
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            logger.LogInformation("Test connection for phone number id {PhoneNumberId}: Graph unreachable ({Reason})", phoneNumberId, e.Message);
            return Failed($"Could not reach Meta's Graph API ({e.Message}). Check this server's internet connection, DNS or proxy, then try again.");
        }
    }

    /// <summary>Replaces the token or app secret (a new token reconnects the instance) and sets or clears the fallback template.</summary>
    public async Task UpdateAsync(int customerId, string instanceId, CloudApiInstanceUpdate change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        var instance = await instances.FindAsync(customerId, instanceId, ct);
        if (!string.Equals(instance.Engine, EngineName, StringComparison.OrdinalIgnoreCase))
            throw WapBridgeException.Invalid("instance_id", "not_cloudapi",
                $"Instance {instance.Code} uses the {instance.Engine} engine; access tokens, app secrets and fallback templates belong to Cloud API instances only.");
        var accessToken = change.AccessToken is null ? null : AccessToken(change.AccessToken, $"{Argument}.access_token");
        var appSecret = change.AppSecret is null ? null : AppSecret(change.AppSecret, $"{Argument}.app_secret");
        var template = change.ClearFallbackTemplate || change.FallbackTemplate is null ? null : TemplateService.Name(change.FallbackTemplate, "fallback_template");
        var language = change.FallbackTemplateLanguage is null ? null : TemplateService.Language(change.FallbackTemplateLanguage, "fallback_template_language");
        if (language is not null && template is null && (change.ClearFallbackTemplate || instance.FallbackTemplate is null))
            throw WapBridgeException.Invalid("fallback_template_language", "fallback_template_missing",
                $"fallback_template_language needs a fallback template: set fallback_template too (instance {instance.Code} has none).");
        if (!change.ClearFallbackTemplate && (template is not null || language is not null))
            await EnsureFallbackFitsAsync(instance, template ?? instance.FallbackTemplate!, language ?? instance.FallbackTemplateLanguage ?? ServiceWindowRule.DefaultLanguage, ct);

        var turn = _updates.GetOrAdd(instance.Code, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Instances.SingleOrDefaultAsync(i => i.Id == instance.Id, ct)
                ?? throw WapBridgeException.NotFound("Instance", instance.Code, "instance_id");
            if (accessToken is not null || appSecret is not null)
            {
                var credentials = Unseal(row.Code, row.EngineCredentials)
                    ?? throw WapBridgeException.Invalid("instance_id", "credentials_unreadable",
                        $"The stored Cloud API credentials of instance {row.Code} cannot be read (the server's keys changed?); delete the instance and create it again.");
                row.EngineCredentials = _protector.Protect((credentials with
                {
                    AccessToken = accessToken ?? credentials.AccessToken,
                    AppSecret = appSecret ?? credentials.AppSecret,
                }).ToJson());
            }
            if (change.ClearFallbackTemplate)
            {
                row.FallbackTemplate = null;
                row.FallbackTemplateLanguage = null;
            }
            else if (template is not null)
            {
                row.FallbackTemplate = template;
            }
            if (language is not null)
                row.FallbackTemplateLanguage = language;
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            turn.Release();
        }
        logger.LogInformation("Cloud API instance {Instance} updated: access token {TokenChanged}, app secret {SecretChanged}, fallback template {Template}",
            instance.Code, accessToken is null ? "kept" : "replaced", appSecret is null ? "kept" : "replaced",
            change.ClearFallbackTemplate ? "cleared" : template ?? "kept");

        if (accessToken is not null)
            await instances.RestartAsync(customerId, instance.Code, ct);
        else
            await grains.GetGrain<IInstanceGrain>(instance.Code).ReloadAsync();
    }

    /// <summary>
    /// The fallback template must be one the business account has, approved, with one body variable (<c>{{1}}</c>) for the
    /// text: otherwise every send outside the window would fail at Graph, long after this call said it was fine. When
    /// Meta cannot be asked now (the instance is not connected, Graph does not answer), it is taken unchecked.
    /// </summary>
    private async Task EnsureFallbackFitsAsync(Instance instance, string name, string language, CancellationToken ct)
    {
        IReadOnlyList<EngineTemplate> templates;
        try
        {
            templates = await grains.GetGrain<IInstanceGrain>(instance.Code).ListTemplatesAsync().WaitAsync(ct);
        }
        catch (Exception e) when (e is WapBridgeException or EngineException or TimeoutException or HttpRequestException)
        {
            logger.LogWarning("Templates of {Instance} could not be read ({Error}); fallback template {Template} ({Language}) set unchecked",
                instance.Code, e.Message, name, language);
            return;
        }
        var template = templates.FirstOrDefault(t => t.Name == name && t.Language == language);
        if (template is null)
        {
            var approved = templates.Where(t => t.Status == TemplateService.Approved).Select(t => $"{t.Name} ({t.Language})").Take(20).ToList();
            throw WapBridgeException.Invalid("fallback_template", "unknown_template",
                $"The business account has no template {name} in language {language}; " +
                (approved.Count == 0 ? "it has no approved template yet: create one in WhatsApp Manager." : $"approved ones: {string.Join(", ", approved)}."));
        }
        if (template.Status != TemplateService.Approved)
            throw WapBridgeException.Invalid("fallback_template", "template_not_approved",
                $"Template {name} ({language}) is {template.Status}; WhatsApp sends only APPROVED templates: wait for Meta's review or pick an approved one.");
        if (template.Variables is not ["1"])
            throw WapBridgeException.Invalid("fallback_template", "fallback_template_unfit",
                $"Template {name} ({language}) must have exactly one variable, {{{{1}}}}, in its body: the text of each message goes there " +
                $"(its body has {(template.Variables.Count == 0 ? "none" : string.Join(", ", template.Variables.Select(v => "{{" + v + "}}")))}).");
    }

    /// <summary>The callback URL to enter in Meta's app for this instance.</summary>
    public string WebhookUrl(string instanceCode) => $"{urls.BaseUrl.TrimEnd('/')}/webhooks/cloudapi/{instanceCode}";

    private CloudApiCredentials? Unseal(string instanceCode, string? sealedValue) =>
        CloudApiCredentials.Unseal(_protector, sealedValue, instanceCode, logger);

    private static CloudApiConnectionCheck Failed(string error) => new(false, null, null, error);

    private static string Explain(GraphException e, string phoneNumberId) =>
        GraphErrorCodes.ReasonFor(e.MetaCode) switch
        {
            GraphErrorCodes.AccessTokenInvalid =>
                $"Meta refused the access token (Meta error {e.MetaCode}: {e.Message}). Paste a permanent system-user token with the " +
                "whatsapp_business_messaging and whatsapp_business_management permissions.",
            GraphErrorCodes.InvalidParameter =>
                $"Meta does not know phone number ID {phoneNumberId}, or the token may not use it (Meta error {e.MetaCode}: {e.Message}). " +
                "Copy the Phone number ID from WhatsApp › API Setup of the same app as the token.",
            GraphErrorCodes.Throttled => $"Meta asks to slow down (Meta error {e.MetaCode}); try again in a minute.",
            _ => $"Meta answered with an error (Meta error {e.MetaCode}, HTTP {e.HttpStatus}: {e.Message}).",
        };

    private static string GraphId(string? value, string field, string label, string example)
    {
        var name = $"{Argument}.{field}";
        value = value?.Trim();
        if (string.IsNullOrEmpty(value))
            throw new WapBridgeException(ErrorKind.Validation, "missing_argument",
                $"{name} is required: the {label} from Meta's app (WhatsApp › API Setup), e.g. {example}", name);
        return Digits().IsMatch(value)
            ? value
            : throw WapBridgeException.Invalid(name, $"invalid_{field}", $"{name} must be the {label} from Meta's app (digits only, e.g. {example})");
    }

    private static string AccessToken(string? value, string name)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value))
            throw new WapBridgeException(ErrorKind.Validation, "missing_argument",
                $"{name} is required: a permanent access token of a system user (Meta Business Settings › System users › Generate token)", name);
        return Secret().IsMatch(value)
            ? value
            : throw WapBridgeException.Invalid(name, "invalid_access_token", $"{name} must be the token as Meta shows it: one word of at most 2048 characters, without spaces");
    }

    private static string AppSecret(string? value, string name)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value))
            throw new WapBridgeException(ErrorKind.Validation, "missing_argument",
                $"{name} is required: the App secret from Meta's app (App settings › Basic); it checks that callbacks come from Meta", name);
        return value.Length <= 256 && Secret().IsMatch(value)
            ? value
            : throw WapBridgeException.Invalid(name, "invalid_app_secret", $"{name} must be the App secret as Meta shows it (App settings › Basic): one word without spaces");
    }

    private static string VerifyToken(string? value)
    {
        const string name = $"{Argument}.verify_token";
        value = value?.Trim();
        if (string.IsNullOrEmpty(value))
            return RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 32);
        return VerifyTokenShape().IsMatch(value)
            ? value
            : throw WapBridgeException.Invalid(name, "invalid_verify_token",
                $"{name} must be 8 to 128 characters of letters, digits, '.', '_' or '-'; leave it out to have one generated");
    }

    [GeneratedRegex(@"^\d{1,32}$")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^\S{1,2048}$")]
    private static partial Regex Secret();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{8,128}$")]
    private static partial Regex VerifyTokenShape();
}

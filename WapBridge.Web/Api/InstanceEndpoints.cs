using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record CreateInstanceArgs(string? Name, string? Engine, string? DefaultCountry, string? Timezone, CloudApiArgs? Cloudapi);

/// <summary>Contract §11: Meta's ids and secrets of a Cloud API instance.</summary>
public sealed record CloudApiArgs(string? PhoneNumberId, string? BusinessAccountId, string? AccessToken, string? AppSecret, string? VerifyToken);

public sealed record CloudApiSecretsArgs(string? AccessToken, string? AppSecret);
public sealed record UpdateInstanceArgs([FrappeRequired] string? InstanceId, string? FallbackTemplate, string? FallbackTemplateLanguage, CloudApiSecretsArgs? Cloudapi);
public sealed record InstanceArgs([FrappeRequired] string? InstanceId);
public sealed record PairingCodeArgs([FrappeRequired] string? InstanceId, [FrappeRequired] string? PhoneNumber);
public sealed record InstanceCreated(string InstanceId, InstanceState Status, string Name, string Engine)
{
    /// <summary>Contract §11, Cloud API instances only: the callback URL and verify token to enter in Meta's app.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WebhookUrl { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? VerifyToken { get; init; }
}

/// <summary>Contract §11: a Cloud API instance's set-up as <c>instance_status</c> shows it (never its token or app secret).</summary>
public sealed record CloudApiStatus(string PhoneNumberId, string BusinessAccountId, string WebhookUrl, string? FallbackTemplate, string? FallbackTemplateLanguage);
public sealed record InstanceStatus(string InstanceId, string Name, string Engine, InstanceState Status, string? PhoneNumber, string? PushName,
    DateTimeOffset? ConnectedAt, string? LastError, string? DefaultCountry, DateTimeOffset CreatedAt, DateTimeOffset StatusChangedAt, bool IsSimulator)
{
    /// <summary>Contract §12: WhatsApp's restriction of sends to new contacts (463), when it ever restricted the number.</summary>
    public InstanceRestriction? Restriction { get; init; }

    public DateTimeOffset? BannedUntil { get; init; }

    public int UndecryptableMessages { get; init; }

    /// <summary>The number of the reconnect attempt due at <see cref="NextRetryAt"/> (0 when none is pending).</summary>
    public int ReconnectAttempts { get; init; }

    public DateTimeOffset? NextRetryAt { get; init; }

    /// <summary>Contract §10: the node where the instance lives now.</summary>
    public string Node { get; init; } = "";

    /// <summary>Contract §6: the IANA zone its days (and new-contact budget) run in, its own or its number's or country's.</summary>
    public string Timezone { get; init; } = "UTC";

    /// <summary>Contract §12: the score, level and reasons, and the new contacts still allowed today.</summary>
    public InstanceHealthStatus? Health { get; init; }

    /// <summary>Contract §11: Cloud API instances only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CloudApiStatus? Cloudapi { get; init; }
}

public sealed record InstanceHealthStatus(int Score, string Level, IReadOnlyList<HealthReason> Reasons, int BudgetLeftToday,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? RestrictedUntil)
{
    public static InstanceHealthStatus From(InstanceHealth h) => new(h.Score, h.Level, h.Reasons, h.Budget.LeftToday, h.RestrictedUntil);
}

public sealed record InstanceRestriction(DateTimeOffset Until, string? Detail);
public sealed record QrResult(string Qr, string QrImage, DateTimeOffset ExpiresAt);
public sealed record PairingCodeResult(string InstanceId, string Code);
public sealed record DeletedResult(string InstanceId, bool Deleted);
public sealed record OverrideProtectionArgs([FrappeRequired] string? InstanceId, int? Hours);
public sealed record ProtectionOverridden(string InstanceId, DateTimeOffset OverrideUntil);

/// <summary>Contract §6 instance methods, scoped to the calling key's customer.</summary>
public static class InstanceEndpoints
{
    private const string Prefix = "wap_bridge.api.instances.";

    public static void MapInstanceEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<CreateInstanceArgs, InstanceCreated>(Prefix + "create_instance", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Create an instance; it starts pairing at once (get_qr), or with engine cloudapi and the cloudapi object connects to Meta's Cloud API",
            async (args, call) =>
            {
                var engine = string.IsNullOrWhiteSpace(args.Engine) && args.Cloudapi is not null ? CloudApiInstances.EngineName : args.Engine;
                var isCloudApi = string.Equals(engine?.Trim(), CloudApiInstances.EngineName, StringComparison.OrdinalIgnoreCase);
                if (args.Cloudapi is not null && !isCloudApi)
                    throw WapBridgeException.Invalid(CloudApiInstances.Argument, "cloudapi_not_expected",
                        $"cloudapi is for engine cloudapi only; leave it out for engine {engine?.Trim()}, or send engine cloudapi");
                // Without the cloudapi object, InstanceService refuses engine cloudapi naming what is missing.
                if (isCloudApi && args.Cloudapi is { } c)
                {
                    var request = new CloudApiInstanceRequest(c.PhoneNumberId, c.BusinessAccountId, c.AccessToken, c.AppSecret, c.VerifyToken);
                    var made = await call.Service<CloudApiInstances>().CreateAsync(call.CustomerId, args.Name, request, args.DefaultCountry, args.Timezone, call.Aborted);
                    var now = await call.Service<InstanceService>().GetAsync(call.CustomerId, made.Instance.Code, call.Aborted);
                    return new InstanceCreated(now.InstanceId, now.Status, now.Name, now.Engine) { WebhookUrl = made.WebhookUrl, VerifyToken = made.VerifyToken };
                }
                var created = await call.Service<InstanceService>().CreateAsync(call.CustomerId, args.Name, engine, args.DefaultCountry, args.Timezone, call.Aborted);
                return new InstanceCreated(created.InstanceId, created.Status, created.Name, created.Engine);
            });

        api.MapFrappeMethod<ListArgs, PagedList<InstanceStatus>>(Prefix + "list_instances", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "List the caller's instances",
            async (args, call) =>
            {
                var page = await call.Service<InstanceService>().ListAsync(call.CustomerId, Paging.From(args.Limit, args.Offset), call.Aborted);
                var items = new List<InstanceStatus>(page.Data.Count);
                var deletedMeanwhile = 0;
                foreach (var details in page.Data)
                {
                    try
                    {
                        items.Add(await WithHealthAsync(call, details));
                    }
                    catch (WapBridgeException e) when (e.Kind == ErrorKind.NotFound)
                    {
                        // A concurrent delete_instance removed it after the page was read: the list answers without it.
                        deletedMeanwhile++;
                    }
                }
                return new PagedList<InstanceStatus>(items, page.Total - deletedMeanwhile, page.Limit, page.Offset);
            });

        api.MapFrappeMethod<InstanceArgs, InstanceStatus>(Prefix + "instance_status", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "Status of one instance",
            async (args, call) => await WithHealthAsync(call, await call.Service<InstanceService>().GetAsync(call.CustomerId, args.InstanceId, call.Aborted)));

        api.MapFrappeMethod<UpdateInstanceArgs, InstanceStatus>(Prefix + "update_instance", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Cloud API instances: replace the access token (reconnects) or app secret, set or clear (\"\") the fallback template",
            async (args, call) =>
            {
                var template = args.FallbackTemplate?.Trim();
                var language = string.IsNullOrWhiteSpace(args.FallbackTemplateLanguage) ? null : args.FallbackTemplateLanguage;
                var change = new CloudApiInstanceUpdate(args.Cloudapi?.AccessToken, args.Cloudapi?.AppSecret,
                    string.IsNullOrEmpty(template) ? null : template, language,
                    ClearFallbackTemplate: template is { Length: 0 });
                await call.Service<CloudApiInstances>().UpdateAsync(call.CustomerId, args.InstanceId!, change, call.Aborted);
                return await WithHealthAsync(call, await call.Service<InstanceService>().GetAsync(call.CustomerId, args.InstanceId, call.Aborted));
            });

        api.MapFrappeMethod<InstanceArgs, QrResult>(Prefix + "get_qr", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The QR code to scan with WhatsApp (raw payload and PNG data URL); 404 when none is pending",
            async (args, call) =>
            {
                var qr = await call.Service<InstanceService>().GetQrAsync(call.CustomerId, args.InstanceId, call.Aborted);
                return new QrResult(qr.Qr, qr.QrImage, qr.ExpiresAt);
            });

        api.MapFrappeMethod<PairingCodeArgs, PairingCodeResult>(Prefix + "request_pairing_code", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "An 8-character code to enter on the phone instead of scanning",
            async (args, call) =>
            {
                var code = await call.Service<InstanceService>().RequestPairingCodeAsync(call.CustomerId, args.InstanceId, args.PhoneNumber, call.Aborted);
                return new PairingCodeResult(args.InstanceId!.Trim().ToUpperInvariant(), code);
            });

        api.MapFrappeMethod<InstanceArgs, InstanceStatus>(Prefix + "set_default_instance", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Make this instance send when a request names none (the ERPNext gateway without instance_id)",
            async (args, call) => ToStatus(await call.Service<InstanceService>().SetDefaultAsync(call.CustomerId, args.InstanceId, call.Aborted)));

        api.MapFrappeMethod<InstanceArgs, InstanceStatus>(Prefix + "logout_instance", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Unlink the WhatsApp device; a new scan is needed afterwards",
            async (args, call) => ToStatus(await call.Service<InstanceService>().LogoutAsync(call.CustomerId, args.InstanceId, call.Aborted)));

        api.MapFrappeMethod<InstanceArgs, InstanceStatus>(Prefix + "restart_instance", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Close and reopen the session (reconnects, or shows a new QR code)",
            async (args, call) => ToStatus(await call.Service<InstanceService>().RestartAsync(call.CustomerId, args.InstanceId, call.Aborted)));

        api.MapFrappeMethod<InstanceArgs, InstanceStatus>(Prefix + "reconnect_instance", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Retry now: start the pending reconnect attempt at once (a disconnected instance); refused while banned",
            async (args, call) => ToStatus(await call.Service<InstanceService>().ReconnectAsync(call.CustomerId, args.InstanceId, call.Aborted)));

        api.MapFrappeMethod<InstanceArgs, InstanceStatus>(Prefix + "resume_sending", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "End WhatsApp's restriction (463) early: held sends to new contacts go out now (logged; sending into a restriction can deepen it)",
            async (args, call) =>
            {
                var actor = await ActorAsync(call);
                return ToStatus(await call.Service<InstanceService>().ResumeSendingAsync(call.CustomerId, args.InstanceId, actor, call.Aborted));
            });

        api.MapFrappeMethod<OverrideProtectionArgs, ProtectionOverridden>(Prefix + "override_protection", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            $"Lift automatic protection for hours (1-{ProtectionOverride.MaxHours}, default {ProtectionOverride.DefaultHours}): new contacts past the day's budget, " +
            "campaigns keep running at danger (logged; it risks the number)",
            async (args, call) =>
            {
                var actor = await ActorAsync(call);
                var (code, until) = await call.Service<ProtectionOverride>().OverrideAsync(call.CustomerId, args.InstanceId, args.Hours, actor, call.Aborted);
                return new ProtectionOverridden(code, until);
            });

        api.MapFrappeMethod<InstanceArgs, DeletedResult>(Prefix + "delete_instance", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Log out and delete the instance",
            async (args, call) =>
            {
                var service = call.Service<InstanceService>();
                var instance = await service.FindAsync(call.CustomerId, args.InstanceId, call.Aborted);
                await service.DeleteAsync(call.CustomerId, instance.Code, call.Aborted);
                return new DeletedResult(instance.Code, true);
            });
    }

    /// <summary>The calling key as the history names it: its label and public key, never its secret.</summary>
    private static async Task<string> ActorAsync(FrappeCall call)
    {
        if (call.Caller is not { } caller)
            return "the admin token";
        await using var db = await call.Service<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(call.Aborted);
        var label = await db.ApiKeys.Where(k => k.Id == caller.ApiKeyId).Select(k => k.Label).SingleOrDefaultAsync(call.Aborted);
        return string.IsNullOrWhiteSpace(label) ? $"API key {caller.Key}" : $"API key \"{label}\" ({caller.Key})";
    }

    private static async Task<InstanceStatus> WithHealthAsync(FrappeCall call, InstanceDetails details) =>
        ToStatus(details) with
        {
            Health = InstanceHealthStatus.From(await call.Service<HealthService>().GetAsync(call.CustomerId, details.InstanceId, call.Aborted)),
            Cloudapi = await CloudApiStatusAsync(call, details),
        };

    private static async Task<CloudApiStatus?> CloudApiStatusAsync(FrappeCall call, InstanceDetails details)
    {
        if (!string.Equals(details.Engine, CloudApiInstances.EngineName, StringComparison.OrdinalIgnoreCase))
            return null;
        var setup = await call.Service<CloudApiInstances>().GetSetupAsync(call.CustomerId, details.InstanceId, call.Aborted);
        return setup is null
            ? null
            : new CloudApiStatus(setup.PhoneNumberId, setup.BusinessAccountId, setup.WebhookUrl, setup.FallbackTemplate, setup.FallbackTemplateLanguage);
    }

    internal static InstanceStatus ToStatus(InstanceDetails d) =>
        new(d.InstanceId, d.Name, d.Engine, d.Status, d.PhoneNumber, d.PushName, d.ConnectedAt, d.LastError, d.DefaultCountry, d.CreatedAt, d.StatusChangedAt, d.IsSimulator)
        {
            Restriction = d.RestrictedUntil is { } until ? new InstanceRestriction(until, d.RestrictionDetail) : null,
            BannedUntil = d.BannedUntil,
            UndecryptableMessages = d.UndecryptableMessages,
            ReconnectAttempts = d.ReconnectAttempts,
            NextRetryAt = d.NextRetryAt,
            Node = d.Node,
            Timezone = d.TimeZone,
        };
}

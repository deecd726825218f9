using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

public sealed record WebhookSettingsView(string? Url, bool SecretSet, string? SecretMasked, IReadOnlyList<string> Events, bool Enabled,
    string? DisabledReason, string? InstanceId, DateTimeOffset? UpdatedAt, string? Secret = null)
{
    /// <summary>The customer's per-instance overrides (contract §9), listed with the customer's own settings only.</summary>
    public IReadOnlyList<InstanceWebhookView>? Instances { get; init; }
}

/// <summary>One instance's own webhook, overriding the customer's.</summary>
public sealed record InstanceWebhookView(string InstanceId, string Url, bool SecretSet, string? SecretMasked, IReadOnlyList<string> Events, bool Enabled,
    string? DisabledReason, DateTimeOffset UpdatedAt);

public sealed record DeliveryView(long Delivery, string EventId, string Event, DeliveryState State, int Attempts, int? LastStatusCode,
    string? LastResponse, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, string? InstanceId, string Url);

public sealed record TestResult(long Delivery, bool Delivered, int? StatusCode, string? Error);

/// <summary>Contract §6 webhook settings: per customer, optionally overridden per instance; secrets encrypted, shown masked.</summary>
public sealed class WebhookSettingsService(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IDataProtectionProvider dataProtection,
    InstanceService instances,
    WebhookOutbox outbox,
    WebhookDispatcher dispatcher,
    IOptions<WebhookOptions> options,
    TimeProvider time)
{
    private readonly IDataProtector _secrets = SecretProtector(dataProtection);

    public static IDataProtector SecretProtector(IDataProtectionProvider provider) => provider.CreateProtector("WapBridge.Webhooks.Secrets");

    public async Task<WebhookSettingsView> GetAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        var instanceId = await InstanceIdAsync(customerId, instanceCode, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.CustomerId == customerId && e.InstanceId == instanceId, ct);
        if (instanceId is not null)
            return View(endpoint, instanceCode);
        var overrides = await (
            from e in db.WebhookEndpoints.AsNoTracking()
            join i in db.Instances on e.InstanceId equals i.Id
            where e.CustomerId == customerId && i.CustomerId == customerId
            orderby i.Code
            select new { Endpoint = e, i.Code }).ToListAsync(ct);
        return View(endpoint, instanceCode) with
        {
            Instances = overrides.Where(o => !o.Endpoint.IsRemoved).Select(o =>
            {
                var e = o.Endpoint;
                return new InstanceWebhookView(o.Code, e.Url, e.SecretProtected is not null, Masked(e), e.EventList, e.Enabled, e.DisabledReason, e.UpdatedAt);
            }).ToList(),
        };
    }

    /// <summary>
    /// Saves the endpoint. <paramref name="secret"/> null keeps the stored one, empty removes it;
    /// <paramref name="generateSecret"/> makes a new one, returned once in <see cref="WebhookSettingsView.Secret"/>.
    /// An empty <paramref name="url"/> removes the endpoint (or the instance's override).
    /// </summary>
    public async Task<WebhookSettingsView> SetAsync(int customerId, string? url, string? secret, bool generateSecret, IReadOnlyList<string>? events,
        string? instanceCode, CancellationToken ct = default)
    {
        var instanceId = await InstanceIdAsync(customerId, instanceCode, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.CustomerId == customerId && e.InstanceId == instanceId, ct);
        if (url is not null && url.Trim().Length == 0)
        {
            // Disabled, not deleted: its delivery history stays visible.
            if (endpoint is not null)
            {
                endpoint.Enabled = false;
                endpoint.DisabledReason = WebhookEndpoint.RemovedReason;
                endpoint.UpdatedAt = time.GetUtcNow();
                await db.SaveChangesAsync(ct);
                outbox.Invalidate(customerId);
            }
            return View(null, instanceCode);
        }

        var uri = WebhookTargets.ParseUrl(url ?? endpoint?.Url);
        // Names are checked again on the resolved address at connect time; literal addresses and "localhost" can be refused now.
        if (WebhookTargets.LiteralAddress(uri) is { } literal && !WebhookTargets.IsAllowed(literal, options.Value, HostAddresses.Current))
            throw WapBridgeException.Invalid("url", "private_target",
                $"url points at a loopback, private or reserved address ({uri.Host}); webhooks must reach a public server");
        var eventList = ValidateEvents(events) ?? endpoint?.EventList.ToList() ?? [WebhookEvents.Message];

        string? shownSecret = null;
        if (generateSecret)
            secret = shownSecret = WebhookSignature.NewSecret();
        if (secret is { Length: > 0 })
            WebhookTargets.ValidateSecret(secret);

        var now = time.GetUtcNow();
        if (endpoint is null)
        {
            endpoint = new WebhookEndpoint { CustomerId = customerId, InstanceId = instanceId, Url = uri.AbsoluteUri, CreatedAt = now };
            db.WebhookEndpoints.Add(endpoint);
        }
        endpoint.Url = uri.AbsoluteUri;
        endpoint.Events = string.Join(',', eventList);
        endpoint.Enabled = true;
        endpoint.DisabledReason = null;
        endpoint.UpdatedAt = now;
        if (secret is not null)
            endpoint.SecretProtected = secret.Length == 0 ? null : _secrets.Protect(secret);
        await db.SaveChangesAsync(ct);
        outbox.Invalidate(customerId);
        return View(endpoint, instanceCode) with { Secret = shownSecret };
    }

    public async Task<TestResult> SendTestAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        var instanceId = await InstanceIdAsync(customerId, instanceCode, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var customerCode = await db.Customers.Where(c => c.Id == customerId).Select(c => c.Code).SingleAsync(ct);
        var added = await outbox.AddAsync(db, customerId, instanceId, WebhookEvents.Test, () => WebhookPayloads.Event(WebhookEvents.Test,
            instanceCode?.Trim().ToUpperInvariant(), customerCode, time.GetUtcNow(),
            new JsonObject { ["message"] = "Test event from WapBridge: your webhook is reachable." }), ct);
        if (!added)
            throw new WapBridgeException(ErrorKind.NotFound, "no_webhook", "No enabled webhook is configured; set one with set_webhook first.", "url");
        var delivery = db.WebhookDeliveries.Local.Single();
        // Held for this call from the start: the dispatcher's loop would otherwise race it for the delivery.
        var held = delivery.NextAttemptAt = WebhookDispatcher.HoldForAttempt(time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        var result = await dispatcher.AttemptAsync(delivery.Id, ct, held);
        return new TestResult(delivery.Id, result?.Delivered ?? false, result?.StatusCode, result?.Error);
    }

    public async Task<PagedList<DeliveryView>> ListDeliveriesAsync(int customerId, string? state, string? eventType, Paging paging, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.CustomerId == customerId);
        if (!string.IsNullOrWhiteSpace(state))
        {
            if (!WireNames.TryFromWire<DeliveryState>(state.Trim().ToLowerInvariant(), out var wanted))
                throw WapBridgeException.Invalid("state", "invalid_state", "state must be pending, delivered or dead");
            query = query.Where(d => d.State == wanted);
        }
        if (!string.IsNullOrWhiteSpace(eventType))
            query = query.Where(d => d.EventType == eventType.Trim());
        var total = await query.CountAsync(ct);
        var rows = await (
            from d in query.OrderByDescending(d => d.Id).Skip(paging.Offset).Take(paging.Limit)
            join e in db.WebhookEndpoints on d.EndpointId equals e.Id into endpoints
            from e in endpoints.DefaultIfEmpty()
            join i in db.Instances on d.InstanceId equals i.Id into owned
            from i in owned.DefaultIfEmpty()
            select new DeliveryView(d.Id, d.EventId, d.EventType, d.State, d.Attempts, d.LastStatusCode, d.LastResponse, d.LastError,
                d.CreatedAt, d.State == DeliveryState.Pending ? d.NextAttemptAt : null, d.DeliveredAt, i == null ? null : i.Code, e == null ? "" : e.Url))
            .ToListAsync(ct);
        return new PagedList<DeliveryView>(rows, total, paging.Limit, paging.Offset);
    }

    /// <summary>Sends a delivery again now, whatever its state; the same webhook-id lets receivers de-duplicate.</summary>
    public async Task<TestResult> RedeliverAsync(int customerId, long? deliveryId, CancellationToken ct = default)
    {
        if (deliveryId is null)
            throw WapBridgeException.Missing("delivery");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var held = WebhookDispatcher.HoldForAttempt(time.GetUtcNow());
        var reset = await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.CustomerId == customerId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DeliveryState.Pending).SetProperty(d => d.NextAttemptAt, held), ct);
        if (reset == 0)
            throw WapBridgeException.NotFound("Webhook delivery", deliveryId.Value.ToString(CultureInfo.InvariantCulture), "delivery");
        var result = await dispatcher.AttemptAsync(deliveryId.Value, ct, held);
        return new TestResult(deliveryId.Value, result?.Delivered ?? false, result?.StatusCode, result?.Error);
    }

    private async Task<int?> InstanceIdAsync(int customerId, string? instanceCode, CancellationToken ct) =>
        string.IsNullOrWhiteSpace(instanceCode) ? null : (await instances.FindAsync(customerId, instanceCode, ct)).Id;

    private static List<string>? ValidateEvents(IReadOnlyList<string>? events)
    {
        if (events is null)
            return null;
        var list = events.Select(e => e.Trim().ToLowerInvariant()).Where(e => e.Length > 0).Distinct().ToList();
        var unknown = list.Where(e => !WebhookEvents.All.Contains(e)).ToList();
        if (unknown.Count > 0)
            throw WapBridgeException.Invalid("events", "unknown_event", $"unknown events: {string.Join(", ", unknown)}; choose from {string.Join(", ", WebhookEvents.All)}");
        return list.Count == 0 ? throw WapBridgeException.Invalid("events", "no_events", "events must name at least one event") : list;
    }

    private WebhookSettingsView View(WebhookEndpoint? endpoint, string? instanceCode)
    {
        var code = string.IsNullOrWhiteSpace(instanceCode) ? null : instanceCode.Trim().ToUpperInvariant();
        if (endpoint is null || endpoint.IsRemoved)
            return new WebhookSettingsView(null, false, null, [WebhookEvents.Message], false, null, code, null);
        return new WebhookSettingsView(endpoint.Url, endpoint.SecretProtected is not null, Masked(endpoint), endpoint.EventList, endpoint.Enabled,
            endpoint.DisabledReason, code, endpoint.UpdatedAt);
    }

    private string? Masked(WebhookEndpoint endpoint)
    {
        if (endpoint.SecretProtected is null)
            return null;
        try
        {
            var secret = _secrets.Unprotect(endpoint.SecretProtected);
            return new string('•', 8) + secret[^Math.Min(4, secret.Length)..];
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // The keys it was encrypted with are gone: deliveries say so, and setting the secret again fixes both.
            return "(unreadable: set it again)";
        }
    }
}

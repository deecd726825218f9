using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Accounts;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Health;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

public sealed record InstanceDetails(
    string InstanceId, string Name, string Engine, InstanceState Status, string? PhoneNumber, string? PushName,
    DateTimeOffset? ConnectedAt, string? LastError, string? DefaultCountry, DateTimeOffset CreatedAt, DateTimeOffset StatusChangedAt)
{
    public bool IsSimulator => Engine == Engines.Simulator.SimulatorEngine.EngineName;

    /// <summary>WhatsApp's reach-out timelock (463), contract §12; null when WhatsApp never restricted the number.</summary>
    public DateTimeOffset? RestrictedUntil { get; init; }
    public string? RestrictionDetail { get; init; }

    /// <summary>A temporary ban (402): the instance does not reconnect before then.</summary>
    public DateTimeOffset? BannedUntil { get; init; }

    /// <summary>Messages that reached the instance but could not be decrypted (lost, unless the sender resends).</summary>
    public int UndecryptableMessages { get; init; }

    /// <summary>The number of the reconnect attempt due at <see cref="NextRetryAt"/>; 0 when none is pending.</summary>
    public int ReconnectAttempts { get; init; }
    public DateTimeOffset? NextRetryAt { get; init; }

    /// <summary>The node where the instance lives now (or last lived), contract §10.</summary>
    public string Node { get; init; } = "";

    /// <summary>The IANA zone its days run in (contract §6 <c>timezone</c>): its own, else its number's or country's main zone.</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>Whether the number was ever paired: only then is there a device to log out.</summary>
    public bool WasPaired => PhoneNumber is not null;

    /// <param name="now">A restriction that ended by then is not shown: the outbox sends again.</param>
    internal static InstanceDetails From(Instance i, DateTimeOffset now)
    {
        var restricted = i.RestrictedUntil > now;
        return new(i.Code, i.Name, i.Engine, i.State, i.PhoneNumber, i.PushName, i.ConnectedAt, i.LastError, i.DefaultCountry, i.CreatedAt, i.StateChangedAt)
        {
            RestrictedUntil = restricted ? i.RestrictedUntil : null,
            RestrictionDetail = restricted ? i.RestrictionDetail : null,
            BannedUntil = i.BannedUntil,
            UndecryptableMessages = i.UndecryptableMessages,
            ReconnectAttempts = i.NextRetryAt is null ? 0 : i.ReconnectAttempts,
            NextRetryAt = i.NextRetryAt,
            Node = i.NodeId,
            TimeZone = InstanceTimeZones.Of(i).Id,
        };
    }
}

public sealed record PendingQr(string Qr, string QrImage, DateTimeOffset ExpiresAt);

/// <summary>The instance operations of contract §6, each scoped to one customer: another customer's instance does not exist.</summary>
public sealed partial class InstanceService(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IGrainFactory grains,
    EngineRegistry engines,
    IOptions<NodeOptions> node,
    IOptions<AccountOptions> accounts,
    TimeProvider time,
    ILogger<InstanceService> logger)
{
    /// <param name="timeZone">The IANA zone its days (and new-contact budget) run in; null takes the number's or country's main zone.</param>
    public Task<InstanceDetails> CreateAsync(int customerId, string? name, string? engine, string? defaultCountry, string? timeZone = null,
        CancellationToken ct = default) =>
        CreateWithCredentialsAsync(customerId, name, engine, defaultCountry, timeZone, null, ct);

    /// <param name="sealedCredentials">
    /// The engine's credentials, already encrypted (<see cref="InstanceCredentialStore.Purpose"/>), stored with the new row so
    /// its session connects with them at once; null for engines that pair (QR, code).
    /// </param>
    internal async Task<InstanceDetails> CreateWithCredentialsAsync(int customerId, string? name, string? engine, string? defaultCountry, string? timeZone,
        string? sealedCredentials, CancellationToken ct)
    {
        engine = string.IsNullOrWhiteSpace(engine)
            ? engines.DefaultEngine ?? throw WapBridgeException.Invalid("engine", "no_engine", "No WhatsApp engine is available on this server.")
            : engine.Trim().ToLowerInvariant();
        engines.GetAvailable(engine);
        if (engine == Engines.CloudApi.CloudApiInstances.EngineName && sealedCredentials is null)
            throw WapBridgeException.Invalid(Engines.CloudApi.CloudApiInstances.Argument, "missing_argument",
                "cloudapi is required with engine cloudapi: {\"phone_number_id\", \"business_account_id\", \"access_token\", \"app_secret\", \"verify_token\"?} from Meta's app");
        name = string.IsNullOrWhiteSpace(name) ? null : name.Trim();
        if (name is { Length: > 100 })
            throw WapBridgeException.Invalid("name", "too_long", "name must be at most 100 characters");
        defaultCountry = string.IsNullOrWhiteSpace(defaultCountry) ? null : defaultCountry.Trim().ToUpperInvariant();
        if (defaultCountry is not null && !CountryCode().IsMatch(defaultCountry))
            throw WapBridgeException.Invalid("default_country", "invalid_country", $"default_country '{defaultCountry}' must be a two-letter ISO 3166 code such as TZ or KE");
        timeZone = InstanceTimeZones.Validate(timeZone, "timezone");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var quotas = await CustomerQuotas.ReadAsync(db, customerId, accounts.Value.Quotas, ct);
        quotas.EnsureInstanceAllowed(await db.Instances.CountAsync(i => i.CustomerId == customerId, ct));
        var now = time.GetUtcNow();
        var sequence = await SequenceGenerator.NextAsync(db, "instance", ct);
        var instance = new Instance
        {
            Code = Instance.FormatCode(node.Value.Id, sequence),
            CustomerId = customerId,
            Name = name ?? $"WhatsApp {sequence}",
            Engine = engine,
            DefaultCountry = defaultCountry,
            TimeZone = timeZone,
            NodeId = node.Value.Id,
            CreatedAt = now,
            StateChangedAt = now,
            WarmUpStartedAt = now,
            EngineCredentials = sealedCredentials,
        };
        db.Instances.Add(instance);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        try
        {
            await Grain(instance.Code).OpenAsync();
        }
        catch (WapBridgeException e) when (e.Code == InstancePlacementDirector.ClusterFull)
        {
            // No node has room: the instance is refused, not left behind without a session.
            await using var cleanup = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await cleanup.Instances.Where(i => i.Id == instance.Id).ExecuteDeleteAsync(CancellationToken.None);
            throw;
        }
        return await GetAsync(customerId, instance.Code, ct);
    }

    private IInstanceGrain Grain(string instanceCode) => grains.GetGrain<IInstanceGrain>(instanceCode);

    /// <summary>
    /// Engines that cannot reach WhatsApp from this server right now, with why: some of their instances here are
    /// retrying because the network failed and none is connected. The dashboard does not preselect them.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> UnreachableEnginesAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var states = await db.Instances.AsNoTracking()
            .Where(i => i.SessionNode == node.Value.Id
                && (i.State == InstanceState.Connected || (i.State == InstanceState.Disconnected && i.LastError == CloseCodePolicy.Unreachable)))
            .Select(i => new { i.Engine, i.State }).Distinct().ToListAsync(ct);
        return states.GroupBy(s => s.Engine, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.All(s => s.State == InstanceState.Disconnected))
            .ToDictionary(g => g.Key, _ => "its instances on this server cannot reach WhatsApp right now: check the server's internet connection, DNS or proxy",
                StringComparer.OrdinalIgnoreCase);
    }

    public async Task<PagedList<InstanceDetails>> ListAsync(int customerId, Paging paging, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Instances.AsNoTracking().Where(i => i.CustomerId == customerId);
        var total = await query.CountAsync(ct);
        var rows = await query.OrderBy(i => i.Id).Skip(paging.Offset).Take(paging.Limit).ToListAsync(ct);
        return new PagedList<InstanceDetails>(rows.Select(i => InstanceDetails.From(i, time.GetUtcNow())).ToList(), total, paging.Limit, paging.Offset);
    }

    public async Task<InstanceDetails> GetAsync(int customerId, string? instanceCode, CancellationToken ct = default) =>
        InstanceDetails.From(await FindAsync(customerId, instanceCode, ct), time.GetUtcNow());

    public async Task<PendingQr> GetQrAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        var instance = await FindAsync(customerId, instanceCode, ct);
        var live = await Grain(instance.Code).GetLiveAsync();
        if (live is not { Qr: { } qr, QrExpiresAt: { } expiresAt } || expiresAt <= time.GetUtcNow() || instance.State != InstanceState.Qr)
        {
            var why = instance.State == InstanceState.Connected
                ? $"Instance {instance.Code} is connected as +{instance.PhoneNumber}; no QR code is pending."
                : $"Instance {instance.Code} has no QR code pending (status {instance.State.ToWire()}); restart it to pair.";
            throw new WapBridgeException(ErrorKind.NotFound, "no_qr_pending", why, "instance_id");
        }
        return new PendingQr(qr, QrCodeImages.ToPngDataUrl(qr), expiresAt);
    }

    public async Task<string> RequestPairingCodeAsync(int customerId, string? instanceCode, string? phoneNumber, CancellationToken ct = default)
    {
        var instance = await FindAsync(customerId, instanceCode, ct);
        if (!engines.Get(instance.Engine).SupportsPairingCode)
            throw WapBridgeException.Invalid("instance_id", "pairing_code_unsupported", $"The {instance.Engine} engine cannot pair with a code; scan the QR code.");
        var phone = WhatsAppNumbers.Normalize(phoneNumber, "phone_number", instance.DefaultCountry);
        return await Grain(instance.Code).RequestPairingCodeAsync(phone);
    }

    /// <summary>Makes this instance the one that sends when a request names none.</summary>
    public async Task<InstanceDetails> SetDefaultAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        var instance = await FindAsync(customerId, instanceCode, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Customers.Where(c => c.Id == customerId).ExecuteUpdateAsync(s => s.SetProperty(c => c.DefaultInstanceId, instance.Id), ct);
        return InstanceDetails.From(instance, time.GetUtcNow());
    }

    public Task<InstanceDetails> LogoutAsync(int customerId, string? instanceCode, CancellationToken ct = default) =>
        OneAtATimeAsync(customerId, instanceCode, async instance =>
        {
            if (instance.PhoneNumber is null)
                throw new WapBridgeException(ErrorKind.InstanceNotConnected, "not_paired",
                    $"Instance {instance.Code} was never paired with a phone, so there is no device to log out; pair it (get_qr) or delete it.", "instance_id");
            await Grain(instance.Code).LogoutAsync();
            return await GetAsync(customerId, instance.Code, ct);
        }, ct);

    public Task<InstanceDetails> RestartAsync(int customerId, string? instanceCode, CancellationToken ct = default) =>
        OneAtATimeAsync(customerId, instanceCode, async instance =>
        {
            await Grain(instance.Code).OpenAsync();
            return await GetAsync(customerId, instance.Code, ct);
        }, ct);

    /// <summary>
    /// "Retry now": starts the pending reconnect attempt at once, or reopens a disconnected session that waits for a person
    /// (e.g. after a conflict). Refused while connected, pairing, logged out, or banned (reconnecting into a ban prolongs it).
    /// </summary>
    public Task<InstanceDetails> ReconnectAsync(int customerId, string? instanceCode, CancellationToken ct = default) =>
        OneAtATimeAsync(customerId, instanceCode, async instance =>
        {
            var now = time.GetUtcNow();
            switch (instance.State)
            {
                case InstanceState.Connected:
                    throw WapBridgeException.Invalid("instance_id", "already_connected", $"Instance {instance.Code} is connected; there is nothing to reconnect.");
                case InstanceState.Disconnected when instance.BannedUntil > now:
                    throw new WapBridgeException(ErrorKind.InstanceNotConnected, "banned",
                        $"WhatsApp banned this number until {instance.BannedUntil:yyyy-MM-dd HH:mm} UTC; reconnecting before then can prolong the ban. It reconnects by itself then.", "instance_id");
                case InstanceState.Disconnected or InstanceState.Connecting:
                    if (!await Grain(instance.Code).RetryNowAsync())
                        await Grain(instance.Code).OpenAsync();
                    return await GetAsync(customerId, instance.Code, ct);
                default:
                    throw new WapBridgeException(ErrorKind.InstanceNotConnected, "not_reconnectable",
                        $"Instance {instance.Code} is {instance.State.ToWire()}, not waiting to reconnect; restart it (restart_instance) to pair it again.", "instance_id");
            }
        }, ct);

    /// <summary>How the state history records <see cref="ResumeSendingAsync"/>: the health score counts it as a recent restriction.</summary>
    public const string RestrictionLiftedEarly = "restriction lifted early";

    /// <summary>
    /// Ends WhatsApp's restriction (463) early on the owner's word (contract §12): the held sends to new contacts go out
    /// now. Sending into a restriction that still holds can deepen it, so it is logged and kept in the state history.
    /// </summary>
    /// <param name="actor">Who decided (a user or an API key label), for the log and the history.</param>
    public Task<InstanceDetails> ResumeSendingAsync(int customerId, string? instanceCode, string actor, CancellationToken ct = default) =>
        OneAtATimeAsync(customerId, instanceCode, async instance =>
        {
            var now = time.GetUtcNow();
            if (instance.RestrictedUntil is not { } until || until <= now)
                throw WapBridgeException.Invalid("instance_id", "not_restricted",
                    $"Instance {instance.Code} is not restricted by WhatsApp; no sends are held for a restriction.");
            int released;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                await db.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u
                    .SetProperty(i => i.RestrictedUntil, (DateTimeOffset?)null)
                    .SetProperty(i => i.RestrictionDetail, (string?)null), ct);
                released = await db.Messages
                    .Where(m => m.InstanceId == instance.Id && m.Status == MessageStatus.Queued && m.HoldReason == SendFailurePolicy.AccountRestricted)
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(m => m.HoldReason, (string?)null)
                        .SetProperty(m => m.NextSendAt, (DateTimeOffset?)null), ct);
                var reason = $"{RestrictionLiftedEarly} by {actor}";
                db.InstanceStateChanges.Add(new InstanceStateChange { InstanceId = instance.Id, State = instance.State, Reason = reason.Length > 500 ? reason[..500] : reason, At = now });
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }
            logger.LogWarning("Restriction of instance {Instance} (until {Until}) lifted early by {Actor}; {Released} held sends released",
                instance.Code, until, actor, released);
            await Grain(instance.Code).ReloadAsync();
            await Grain(instance.Code).WakeOutboxAsync();
            return await GetAsync(customerId, instance.Code, ct);
        }, ct);

    public Task DeleteAsync(int customerId, string? instanceCode, CancellationToken ct = default) =>
        OneAtATimeAsync(customerId, instanceCode, async instance =>
        {
            if (instance.State == InstanceState.Connected)
                await Grain(instance.Code).LogoutAsync();
            else
                await Grain(instance.Code).CloseAsync();
            // The delete cascades to the instance's campaigns and recipients; a recipient insert of the same campaign
            // running meanwhile can deadlock with it on PostgreSQL, which aborts one of the two: the delete runs again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var db = await dbFactory.CreateDbContextAsync(ct);
                    await db.Instances.Where(i => i.Id == instance.Id).ExecuteDeleteAsync(ct);
                    break;
                }
                catch (Exception e) when (attempt < 5 && DatabaseErrors.IsRetryableConflict(e))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), time, ct);
                }
            }
            _lifecycle.TryRemove(instance.Code, out _);
            return true;
        }, ct);

    // Restart, logout and delete of one instance take turns: a restart racing a delete reopened a session for a row
    // being deleted, and two restarts connected a session the other had just closed.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _lifecycle = new(StringComparer.Ordinal);

    private async Task<T> OneAtATimeAsync<T>(int customerId, string? instanceCode, Func<Instance, Task<T>> action, CancellationToken ct)
    {
        var found = await FindAsync(customerId, instanceCode, ct);
        var turn = _lifecycle.GetOrAdd(found.Code, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync(ct);
        try
        {
            // Found again in turn: the operation before this one may have deleted it (then this is a 404).
            return await action(await FindAsync(customerId, found.Code, ct));
        }
        finally
        {
            turn.Release();
        }
    }

    /// <summary>The caller's instance; an unknown id and another customer's id are the same 404.</summary>
    public async Task<Instance> FindAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(instanceCode))
            throw WapBridgeException.Missing("instance_id");
        instanceCode = instanceCode.Trim().ToUpperInvariant();
        if (!InstanceCode().IsMatch(instanceCode))
            throw WapBridgeException.Invalid("instance_id", "invalid_instance_id", $"instance_id '{instanceCode}' is not an instance id like INST-01-0000001");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Code == instanceCode && i.CustomerId == customerId, ct)
            ?? throw WapBridgeException.NotFound("Instance", instanceCode, "instance_id");
    }

    [GeneratedRegex("^[A-Z]{2}$")]
    private static partial Regex CountryCode();

    [GeneratedRegex(@"^INST-\d{2}-\d{7}$")]
    private static partial Regex InstanceCode();
}

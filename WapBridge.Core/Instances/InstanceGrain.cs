using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>
/// The actor of one WhatsApp instance: it owns the engine session (open, close, logout, pairing, "retry now") and
/// holds the database fence that keeps two nodes from holding one WhatsApp connection. What the session reports is
/// <see cref="EngineEventProcessor"/>'s; the instance row is written through <see cref="InstanceStateStore"/>.
/// </summary>
[KeepAlive]
[InstancePlacement]
public sealed class InstanceGrain(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    EngineRegistry engines,
    IDataProtectionProvider dataProtection,
    LocalInstances local,
    InstanceStateStore store,
    EngineEventProcessor events,
    ReconnectScheduler reconnects,
    InstanceChangeFeed changes,
    MessageDispatcher outbox,
    SimulatorNetwork simulator,
    CloudApiCallbackProcessor cloudApiCallbacks,
    NodeFence fence,
    IOptions<NodeOptions> node,
    TimeProvider time,
    ILogger<InstanceGrain> logger) : Grain, IInstanceGrain, ISimulatedPhoneGrain
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector(InstanceCredentialStore.Purpose);
    private readonly IDataProtector _authProtector = dataProtection.CreateProtector("WapBridge.Instances.EngineAuthState");
    private readonly IDataProtector _sentProtector = dataProtection.CreateProtector(SentMessageStore.Purpose);
    private readonly CancellationTokenSource _deactivating = new();
    private readonly CurrentSession _current = new(local);
    private readonly string _node = node.Value.Id;

    private string Code => this.GetPrimaryKeyString();

    public async Task OpenAsync()
    {
        if (await store.LoadByCodeAsync(Code) is { } instance)
            await OpenAsync(instance);
    }

    public async Task<bool> ResumeAsync()
    {
        if (_current.Live is not null)
            return false;
        var instance = await store.LoadByCodeAsync(Code);
        if (instance is { EngineCredentials: not null, State: InstanceState.Connected or InstanceState.Connecting or InstanceState.Disconnected })
        {
            try
            {
                await OpenAsync(instance);
                return true;
            }
            catch (Exception e) when (e is not InstanceFencedException)
            {
                logger.LogError(e, "Could not resume instance {Instance}", instance.Code);
                await store.RecordResumeFailureAsync(instance.Id, e);
            }
        }
        return false;
    }

    private async Task OpenAsync(Instance instance)
    {
        await CloseSessionAsync();
        var engine = engines.GetAvailable(instance.Engine);
        var epoch = await fence.ClaimAsync(instance.Id, _deactivating.Token)
            ?? throw new InstanceFencedException(instance.Code);
        var live = new LiveSession(instance.Id, instance.Code, epoch, _current, _deactivating.Token);
        live.Session = engine.CreateSession(new EngineSessionContext(instance.Code, events.SinkFor(live),
            new InstanceCredentialStore(dbFactory, _protector, instance.Id),
            new InstanceAuthStore(dbFactory, _authProtector, instance.Id, time), instance.CustomerId)
        {
            SentMessages = new SentMessageStore(dbFactory, _sentProtector, instance.Id, time),
        });
        _current.Start(live);
        var hasCredentials = instance.EngineCredentials is not null;
        await store.RecordAsync(live, hasCredentials ? InstanceState.Connecting : InstanceState.New, hasCredentials ? "opening session" : "waiting for pairing");
        await live.Session.ConnectAsync(_deactivating.Token);
    }

    /// <summary>Closes the session and lets the actor go (the instance is being deleted, or another node holds it now).</summary>
    public async Task CloseAsync()
    {
        await CloseSessionAsync();
        DeactivateOnIdle();
    }

    private async Task CloseSessionAsync()
    {
        if (_current.Live is { } live && await _current.EndAsync(live))
            await fence.ReleaseAsync(live.InstanceId, live.Epoch);
    }

    public async Task LogoutAsync()
    {
        var instanceId = _current.Live?.InstanceId;
        if (_current.Live?.Session is { } session)
            await session.LogoutAsync(_deactivating.Token);
        await CloseSessionAsync();
        // Logged out means no session can resume: forget the auth state even when no session was open.
        instanceId ??= (await store.LoadByCodeAsync(Code))?.Id;
        if (instanceId is { } id)
            await InstanceAuthStore.ClearAsync(dbFactory, id, CancellationToken.None);
    }

    public Task<bool> RetryNowAsync() => Task.FromResult(_current.Live is { } live && reconnects.RetryNow(live));

    public Task<InstanceLive> GetLiveAsync()
    {
        var live = _current.Live;
        var qr = live?.Qr;
        return Task.FromResult(new InstanceLive(_node, live is not null, qr?.Qr, qr?.ExpiresAt));
    }

    public async Task<string> RequestPairingCodeAsync(string phoneNumber)
    {
        var session = _current.Live?.Session
            ?? throw new WapBridgeException(ErrorKind.Conflict, "not_pairing", $"Instance {Code} is not waiting to be paired; restart it first.", "instance_id");
        try
        {
            return await session.RequestPairingCodeAsync(phoneNumber, _deactivating.Token);
        }
        catch (EngineException e)
        {
            throw EngineErrors.ForInstance(e);
        }
    }

    public async Task ReloadAsync()
    {
        if (_current.Live is not { } live)
            return;
        live.Instance = await store.LoadAsync(live.InstanceId);
        _current.Publish(live);
        changes.Publish(live.Code);
    }

    /// <summary>
    /// Records that WhatsApp restricted the instance (a send got 463): it stays connected, the outbox holds sends to new
    /// contacts until <paramref name="until"/>, observers pause its campaigns and tell the customer's webhook.
    /// </summary>
    public Task ReportRestrictionAsync(DateTimeOffset until, string detail) =>
        _current.Live is { } live ? events.HandleAsync(live, new AccountRestrictedEvent(live.Code, time.GetUtcNow(), until, detail)) : Task.CompletedTask;

    public Task WakeOutboxAsync()
    {
        if (_current.Live is { } live)
            outbox.Wake(live.InstanceId);
        return Task.CompletedTask;
    }

    public Task ProcessCloudApiCallbacksAsync()
    {
        if (_current.Live is { Session: not null } live)
            cloudApiCallbacks.Nudge(live.InstanceId, live.Code, events.SinkFor(live), live.Closed.Token);
        return Task.CompletedTask;
    }

    public Task MarkReadAsync(IReadOnlyList<EngineMessageKey> keys) => CallSessionAsync(session => session.MarkReadAsync(keys, _deactivating.Token));

    public Task SendPresenceAsync(string toJid, string state) => CallSessionAsync(session => session.SendPresenceAsync(toJid, state, _deactivating.Token));

    public Task DeleteForMeAsync(EngineMessageKey key, DateTimeOffset sentAt) =>
        CallSessionAsync(session => session.DeleteForMeAsync(key, sentAt, _deactivating.Token));

    public Task<IReadOnlyList<NumberCheckResult?>> CheckNumbersAsync(IReadOnlyList<string> phones) =>
        CallSessionAsync(session => session.CheckNumbersAsync(phones, _deactivating.Token));

    public Task<EngineProfile> GetProfileAsync(string user) => CallSessionAsync(session => session.GetProfileAsync(user, _deactivating.Token));

    public Task<IReadOnlyList<EngineGroup>> ListGroupsAsync() => CallGroupsAsync(groups => groups.ListGroupsAsync(_deactivating.Token));

    public Task<EngineGroup> GetGroupAsync(string groupJid) => CallGroupsAsync(groups => groups.GetGroupAsync(groupJid, _deactivating.Token));

    public Task<EngineGroup> CreateGroupAsync(string subject, IReadOnlyList<string> participants) =>
        CallGroupsAsync(groups => groups.CreateGroupAsync(subject, participants, _deactivating.Token));

    public Task<IReadOnlyList<EngineParticipantOutcome>> UpdateGroupParticipantsAsync(string groupJid, string action, IReadOnlyList<string> participants) =>
        CallGroupsAsync(groups => groups.UpdateParticipantsAsync(groupJid, action, participants, _deactivating.Token));

    public Task UpdateGroupAsync(string groupJid, EngineGroupChange change) =>
        CallGroupsAsync(async groups =>
        {
            await groups.UpdateGroupAsync(groupJid, change, _deactivating.Token);
            return true;
        });

    public Task<string> GetGroupInviteCodeAsync(string groupJid) => CallGroupsAsync(groups => groups.GetInviteCodeAsync(groupJid, _deactivating.Token));

    public Task<string> RevokeGroupInviteCodeAsync(string groupJid) => CallGroupsAsync(groups => groups.RevokeInviteCodeAsync(groupJid, _deactivating.Token));

    public Task<string> JoinGroupAsync(string inviteCode) => CallGroupsAsync(groups => groups.JoinGroupAsync(inviteCode, _deactivating.Token));

    public Task LeaveGroupAsync(string groupJid) =>
        CallGroupsAsync(async groups =>
        {
            await groups.LeaveGroupAsync(groupJid, _deactivating.Token);
            return true;
        });

    public Task<IReadOnlyList<EngineTemplate>> ListTemplatesAsync() =>
        CallSessionAsync(async session =>
        {
            if (session is not IEngineTemplates templates)
                throw new EngineFeatureUnavailableException(EngineFeatures.Templates);
            try
            {
                return await templates.ListTemplatesAsync(_deactivating.Token);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !_deactivating.IsCancellationRequested)
            {
                // Meta's servers did not answer: a passing condition the caller can retry, not a bug of ours.
                throw new EngineRefusedException("graph_unreachable", $"Meta's Graph API could not be reached to list the templates ({e.Message}); try again shortly.");
            }
        });

    private Task<T> CallGroupsAsync<T>(Func<IEngineGroups, Task<T>> call) =>
        CallSessionAsync(session => session is IEngineGroups groups ? call(groups) : throw new EngineFeatureUnavailableException(EngineFeatures.Groups));

    private Task CallSessionAsync(Func<IEngineSession, Task> call) =>
        CallSessionAsync(async session =>
        {
            await call(session);
            return true;
        });

    /// <summary>A call on the live session, which must be connected; the engine's refusals as the API's errors.</summary>
    private async Task<T> CallSessionAsync<T>(Func<IEngineSession, Task<T>> call)
    {
        if (_current.Live?.Session is not { } session)
            throw EngineErrors.NotConnected(Code, "not connected", "first");
        try
        {
            return await call(session);
        }
        catch (EngineException e)
        {
            throw EngineErrors.ForInstance(e);
        }
    }

    public Task ScanAsync(string phoneNumber, string? pushName, IReadOnlyList<string>? contacts) =>
        simulator.ScanAsync(Code, phoneNumber, pushName, contacts, _deactivating.Token);

    public Task<string> InjectInboundAsync(SimulatedInboundCall inbound) => simulator.InjectInboundAsync(Code, inbound.ToInbound(), _deactivating.Token);

    public Task<string> InjectCallAsync(SimulatedCall call) => simulator.InjectCallAsync(Code, call, _deactivating.Token);

    public Task InjectPresenceAsync(SimulatedPresence presence) => simulator.InjectPresenceAsync(Code, presence, _deactivating.Token);

    public Task DropConnectionAsync() => simulator.DropConnectionAsync(Code, _deactivating.Token);

    public Task UnlinkFromPhoneAsync() => simulator.UnlinkFromPhoneAsync(Code, _deactivating.Token);

    public Task ApplyConditionsAsync(SimulatedConditions conditions) => simulator.ApplyConditionsAsync(Code, conditions, _deactivating.Token);

    public Task DeliverAsync(SimulatedInboundCall inbound) => simulator.DeliverAsync(Code, inbound.ToInbound(), inbound.MessageId, _deactivating.Token);

    public Task GroupNoticeAsync(SimulatedGroupNotice notice) => simulator.TellAsync(Code, notice, _deactivating.Token);

    public Task ReadReceiptAsync(string messageId) => simulator.ReadReceiptAsync(Code, messageId, _deactivating.Token);

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        await _deactivating.CancelAsync();
        if (_current.Live is { } live)
            logger.LogInformation("Instance {Instance} leaves node {Node}: {Reason}", live.Code, _node, reason.Description);
        await CloseSessionAsync();
    }
}

/// <summary>Another live node holds the instance's WhatsApp connection: this node must not open one.</summary>
[GenerateSerializer, Alias("wapbridge.instance-fenced")]
public sealed class InstanceFencedException(string instanceCode)
    : WapBridgeException(ErrorKind.Conflict, "instance_busy", $"Instance {instanceCode} is connected on another node right now; try again in a moment.", "instance_id");

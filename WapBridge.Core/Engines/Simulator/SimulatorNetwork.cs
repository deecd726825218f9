using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>What a test or a dashboard user injects as an inbound message.</summary>
public sealed record SimulatedInbound(
    string? FromPhone,
    string? FromLid,
    string? Text,
    EngineMedia? Media = null,
    string? Caption = null,
    string? PushName = null,
    string? GroupId = null,
    string? QuotedId = null)
{
    /// <summary>What the message is besides text or media: a reaction, an edit, a location, … (contract §9's simulator counterparts).</summary>
    public SimulatedExtras? Extras { get; init; }
}

/// <summary>
/// What a simulated contact's phone sends besides text and media; at most one of these per message. Ids are WhatsApp
/// ids of messages in the chat.
/// </summary>
public sealed record SimulatedExtras
{
    public string? ReactionTo { get; init; }
    public string? Emoji { get; init; }
    public string? EditOf { get; init; }
    public string? RevokeOf { get; init; }
    public string? PollId { get; init; }
    public IReadOnlyList<string>? PollOptions { get; init; }
    public EngineLocation? Location { get; init; }
    public IReadOnlyList<SimulatedContact>? Contacts { get; init; }
    public EnginePoll? Poll { get; init; }
}

public sealed record SimulatedContact(string Name, string Number);

/// <summary>
/// The simulated WhatsApp world: which sessions are open, which phone each is connected as, and the
/// message ids already delivered (a resend with the same id is collapsed, as WhatsApp does). Each customer has a
/// world of its own (contract §9), spanning the cluster: its instances on any node reach each other, never another customer's.
/// </summary>
public sealed class SimulatorNetwork(IOptions<SimulatorOptions> options, TimeProvider time, ILogger<SimulatorNetwork> logger, IGrainFactory? grains = null,
    ClusterView? cluster = null)
{
    private readonly ConcurrentDictionary<string, SimulatorSession> _sessions = new();
    private readonly ConcurrentDictionary<int, LocalSimulatedWorld> _localWorlds = new();
    // The LIDs this node gave out (number checks, profiles, group members), to read "<lid>@lid" back as its number.
    private const int LidMemoryMax = 200_000;
    private readonly ConcurrentDictionary<(int CustomerId, string Lid), string> _lids = new();
    // Remembered for a while only: long enough to collapse a resend after a failed batch, without growing with traffic.
    // Past the size cap (sustained thousands per second) the memory shortens instead of growing.
    private static readonly TimeSpan DeliveredMemory = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan DeliveredMemoryWhenFull = TimeSpan.FromSeconds(10);
    private const int DeliveredMemoryMax = 50_000;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _delivered = new();
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;
    private Regex? _notOnWhatsApp;

    private SimulatedDirectory? _directory;

    /// <summary>Which of a customer's instances is connected as which phone, on this node and the others.</summary>
    public SimulatedDirectory Directory => LazyInitializer.EnsureInitialized(ref _directory, () => new SimulatedDirectory(grains, World, time, logger,
        worldGone: () => cluster?.IsLastNodeLeaving() == true));

    public SimulatorOptions Options => options.Value;
    public TimeProvider Time => time;
    internal ILogger Logger => logger;

    internal void Register(SimulatorSession session) => _sessions[session.InstanceId] = session;

    internal void Unregister(SimulatorSession session) => _sessions.TryRemove(new KeyValuePair<string, SimulatorSession>(session.InstanceId, session));

    /// <summary>The phone scans the instance's QR code (or confirms its pairing code): it connects as <paramref name="phoneNumber"/>.</summary>
    public Task ScanAsync(string instanceId, string phoneNumber, string? pushName, CancellationToken ct = default) =>
        Session(instanceId).CompletePairingAsync(phoneNumber, pushName, ct);

    /// <summary>Someone sends the instance a message; answers its WhatsApp message id.</summary>
    public Task<string> InjectInboundAsync(string instanceId, SimulatedInbound inbound, CancellationToken ct = default) =>
        Session(instanceId).InjectAsync(inbound, ct);

    /// <summary>A contact calls the instance.</summary>
    public Task<string> InjectCallAsync(string instanceId, SimulatedCall call, CancellationToken ct = default) =>
        Session(instanceId).CallAsync(call, ct);

    /// <summary>A contact comes online, types, records or leaves.</summary>
    public Task InjectPresenceAsync(string instanceId, SimulatedPresence presence, CancellationToken ct = default) =>
        Session(instanceId).PresenceAsync(presence, ct);

    /// <summary>The connection drops for a moment (the host is expected to reconnect).</summary>
    public Task DropConnectionAsync(string instanceId, CancellationToken ct = default) =>
        Session(instanceId).DropAsync("connection_lost", ct);

    /// <summary>The user unlinks the device from the phone.</summary>
    public Task UnlinkFromPhoneAsync(string instanceId, CancellationToken ct = default) =>
        Session(instanceId).LogoutAsync(ct, reason: "unlinked_from_phone");

    /// <summary>The phone's conditions changed (contract §12): the instance's session, when it is open here, plays them from now on.</summary>
    internal Task ApplyConditionsAsync(string instanceId, SimulatedConditions conditions, CancellationToken ct = default) =>
        _sessions.TryGetValue(instanceId, out var session) ? session.ApplyConditionsAsync(conditions, ct) : Task.CompletedTask;

    private readonly ConcurrentDictionary<string, int> _typing = new();

    /// <summary>How many "typing…" indicators the instance showed, for tests and the dashboard.</summary>
    public int TypingIndicators(string instanceId) => _typing.TryGetValue(instanceId, out var count) ? count : 0;

    internal void RecordTyping(string instanceId, string toPhone) => _typing.AddOrUpdate(instanceId, 1, (_, count) => count + 1);

    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _actions = new();

    /// <summary>
    /// What the instance did that leaves no message (read marks, presence, deletes for itself), oldest first, as
    /// <c>read:&lt;id&gt;</c>, <c>presence:&lt;jid&gt;:&lt;state&gt;</c>, <c>delete_for_me:&lt;id&gt;</c>: for tests and the dashboard.
    /// </summary>
    public IReadOnlyList<string> Actions(string instanceId) => _actions.TryGetValue(instanceId, out var actions) ? actions.ToList() : [];

    internal void RecordAction(string instanceId, string action)
    {
        var actions = _actions.GetOrAdd(instanceId, _ => new ConcurrentQueue<string>());
        actions.Enqueue(action);
        // A long-running demo must not grow this without bound.
        while (actions.Count > 1000 && actions.TryDequeue(out _))
        {
        }
    }

    internal bool IsOnWhatsApp(string phone)
    {
        if (string.IsNullOrEmpty(options.Value.NotOnWhatsAppPattern))
            return true;
        _notOnWhatsApp ??= new Regex(options.Value.NotOnWhatsAppPattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        return !_notOnWhatsApp.IsMatch(phone);
    }

    /// <summary>True the first time a sender's message id is delivered; false for a resend of the same id.</summary>
    internal bool MarkDelivered(string senderInstanceId, string messageId)
    {
        var now = time.GetUtcNow();
        if (now >= _nextPrune || _delivered.Count > DeliveredMemoryMax)
        {
            _nextPrune = now + TimeSpan.FromSeconds(10);
            var memory = _delivered.Count > DeliveredMemoryMax ? DeliveredMemoryWhenFull : DeliveredMemory;
            foreach (var (key, at) in _delivered)
                if (now - at > memory)
                    _delivered.TryRemove(key, out _);
        }
        return _delivered.TryAdd(senderInstanceId + "/" + messageId, now);
    }

    /// <summary>The customer's world (its groups): the cluster's actor for it, or one in memory where there is no cluster.</summary>
    internal ISimulatedWorldGrain World(int customerId) =>
        grains?.GetGrain<ISimulatedWorldGrain>(customerId) ?? _localWorlds.GetOrAdd(customerId, id => new LocalSimulatedWorld(id, options.Value, time));

    /// <summary>The number's LID in the customer's world, remembered so that it reads back as the number.</summary>
    internal string LidOf(int customerId, string phone)
    {
        var lid = SimulatedIdentities.LidOf(customerId, phone);
        if (_lids.Count >= LidMemoryMax)
            _lids.Clear();
        _lids.TryAdd((customerId, lid), phone);
        return lid;
    }

    /// <summary>The number behind a LID (user part) this world gave out, or null.</summary>
    internal string? PhoneOfLid(int customerId, string lid) =>
        _lids.TryGetValue((customerId, lid), out var phone) ? phone
        : Directory.HereOf(customerId).Select(s => s.ConnectedPhone).Concat(Directory.ElsewhereKnown(customerId))
            .FirstOrDefault(p => p is not null && SimulatedIdentities.LidOf(customerId, p) == lid);

    /// <summary>The session of <paramref name="customerId"/> connected as <paramref name="phone"/> on this node.</summary>
    internal SimulatorSession? FindByPhone(int customerId, string phone) => Directory.Here(customerId, phone);

    /// <summary>
    /// Does something to the customer's instance connected as <paramref name="phone"/> (not <paramref name="except"/>):
    /// <paramref name="here"/> to its session on this node, else <paramref name="elsewhere"/> to its actor on the node
    /// where it lives. False when no instance of the customer is that phone (an ordinary contact), or it could not be told.
    /// </summary>
    internal async Task<bool> ReachAsync(int customerId, string phone, SimulatorSession? except,
        Func<SimulatorSession, Task> here, Func<ISimulatedPhoneGrain, Task> elsewhere)
    {
        if (Directory.Here(customerId, phone) is { } session)
        {
            if (session == except)
                return false;
            await here(session);
            return true;
        }
        if (await Directory.ElsewhereAsync(customerId, phone) is not { } entry || entry.InstanceCode == except?.InstanceId)
            return false;
        try
        {
            await elsewhere(grains!.GetGrain<ISimulatedPhoneGrain>(entry.InstanceCode));
            return true;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Simulator could not reach {Phone} ({InstanceId}) on another node", phone, entry.InstanceCode);
            return false;
        }
    }

    /// <summary>Another node's instance of the customer sent this one a message (<paramref name="messageId"/>: the sender's id).</summary>
    internal Task DeliverAsync(string instanceId, SimulatedInbound inbound, string? messageId, CancellationToken ct) =>
        Session(instanceId).ReceiveAsync(inbound, ct, messageId);

    /// <summary>A group of the instance changed (told by the member that changed it, on another node).</summary>
    internal Task TellAsync(string instanceId, SimulatedGroupNotice notice, CancellationToken ct) =>
        _sessions.TryGetValue(instanceId, out var session) ? session.EmitNoticeAsync(notice, ct) : Task.CompletedTask;

    /// <summary>A recipient on another node read the instance's message.</summary>
    internal Task ReadReceiptAsync(string instanceId, string messageId, CancellationToken ct) =>
        _sessions.TryGetValue(instanceId, out var session)
            ? session.EmitAsync(new MessageStatusEvent(instanceId, time.GetUtcNow(), messageId, MessageAck.Read), ct).AsTask()
            : Task.CompletedTask;

    private SimulatorSession Session(string instanceId) =>
        _sessions.TryGetValue(instanceId, out var session)
            ? session
            : throw new WapBridgeException(ErrorKind.InstanceNotConnected, "session_not_open",
                $"Instance {instanceId} has no open simulator session; restart it first.", "instance_id");
}

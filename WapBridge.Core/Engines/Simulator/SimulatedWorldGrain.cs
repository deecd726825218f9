using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Utilities;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// One customer's simulated WhatsApp world (keyed by the customer id), shared by every node: which instance is connected
/// as which phone, and the groups. Sessions ask it and then tell the members themselves, so it never calls an instance
/// (no call cycles between actors); it only tells the nodes that follow its directory.
/// </summary>
[Alias("wapbridge.simulated-world")]
public interface ISimulatedWorldGrain : IGrainWithIntegerKey
{
    [Alias("register")]
    Task RegisterAsync(string phone, SimulatedPhoneEntry entry);

    [Alias("unregister")]
    Task UnregisterAsync(string phone, Guid token);

    /// <summary>
    /// The connected instances' phones; <paramref name="node"/> hears the changes from now on (for a few minutes:
    /// nodes ask again before that), and <paramref name="here"/> are the phones the asking node holds.
    /// </summary>
    [Alias("directory")]
    Task<Dictionary<string, SimulatedPhoneEntry>> DirectoryAsync(ISimulatorNodeObserver? node, Dictionary<string, SimulatedPhoneEntry> here);

    /// <summary>What WhatsApp does to the phone now: restriction, ban, blocks, reply rate (contract §12).</summary>
    [Alias("conditions")]
    Task<SimulatedConditions> ConditionsAsync(string phone);

    /// <summary>Changes the phone's conditions (<c>simulator.set_conditions</c>); answers them as they are now.</summary>
    [Alias("update-conditions")]
    Task<SimulatedConditions> UpdateConditionsAsync(string phone, SimulatedConditionsChange change);

    [Alias("groups")]
    Task<IReadOnlyList<EngineGroup>> ListGroupsAsync(string phone);

    [Alias("group")]
    Task<SimulatedWorldAnswer<EngineGroup>> GetGroupAsync(string phone, string groupJid);

    [Alias("create")]
    Task<SimulatedWorldAnswer<EngineGroup>> CreateGroupAsync(string phone, string subject, IReadOnlyList<string> participants);

    [Alias("participants")]
    Task<SimulatedWorldAnswer<IReadOnlyList<EngineParticipantOutcome>>> UpdateParticipantsAsync(string phone, string groupJid, string action,
        IReadOnlyList<SimulatedParticipantRef> participants);

    [Alias("update")]
    Task<SimulatedWorldAnswer<bool>> UpdateGroupAsync(string phone, string groupJid, EngineGroupChange change);

    /// <summary>The group's invite code; <paramref name="revoke"/> voids the current one first.</summary>
    [Alias("invite")]
    Task<SimulatedWorldAnswer<string>> InviteCodeAsync(string phone, string groupJid, bool revoke);

    [Alias("join")]
    Task<SimulatedWorldAnswer<string>> JoinAsync(string phone, string inviteCode);

    [Alias("leave")]
    Task<SimulatedWorldAnswer<bool>> LeaveAsync(string phone, string groupJid);

    /// <summary>Whether the phone may send to the group and who else receives it; null for a group this world does not hold.</summary>
    [Alias("post")]
    Task<SimulatedGroupPost?> PostAsync(string phone, string groupJid);
}

/// <summary>
/// The world in memory on this node: what a session uses where there is no cluster (engine tests), and what the
/// customer's actor holds in a cluster.
/// </summary>
internal sealed class LocalSimulatedWorld(int customerId, SimulatorOptions options, TimeProvider time) : ISimulatedWorldGrain
{
    private readonly Lock _gate = new();
    private readonly SimulatedWorld _world = new(customerId, options, time);

    public Task RegisterAsync(string phone, SimulatedPhoneEntry entry) => Run(() =>
    {
        _world.Register(phone, entry);
        return true;
    });

    public Task UnregisterAsync(string phone, Guid token) => TryUnregisterAsync(phone, token);

    /// <returns>Whether the phone was unregistered (the connection named by the token was the current one).</returns>
    public Task<bool> TryUnregisterAsync(string phone, Guid token) => Run(() => _world.Unregister(phone, token));

    public Task<Dictionary<string, SimulatedPhoneEntry>> DirectoryAsync(ISimulatorNodeObserver? node, Dictionary<string, SimulatedPhoneEntry> here) =>
        Run(() => _world.Directory(here));

    public Task<SimulatedConditions> ConditionsAsync(string phone) => Run(() => _world.Conditions(phone));

    public Task<SimulatedConditions> UpdateConditionsAsync(string phone, SimulatedConditionsChange change) => Run(() => _world.UpdateConditions(phone, change));

    public Task<IReadOnlyList<EngineGroup>> ListGroupsAsync(string phone) => Run(() => _world.List(phone));

    public Task<SimulatedWorldAnswer<EngineGroup>> GetGroupAsync(string phone, string groupJid) => Run(() => _world.Get(phone, groupJid));

    public Task<SimulatedWorldAnswer<EngineGroup>> CreateGroupAsync(string phone, string subject, IReadOnlyList<string> participants) =>
        Run(() => _world.Create(phone, subject, participants));

    public Task<SimulatedWorldAnswer<IReadOnlyList<EngineParticipantOutcome>>> UpdateParticipantsAsync(string phone, string groupJid, string action,
        IReadOnlyList<SimulatedParticipantRef> participants) => Run(() => _world.UpdateParticipants(phone, groupJid, action, participants));

    public Task<SimulatedWorldAnswer<bool>> UpdateGroupAsync(string phone, string groupJid, EngineGroupChange change) => Run(() => _world.Update(phone, groupJid, change));

    public Task<SimulatedWorldAnswer<string>> InviteCodeAsync(string phone, string groupJid, bool revoke) => Run(() => _world.InviteCode(phone, groupJid, revoke));

    public Task<SimulatedWorldAnswer<string>> JoinAsync(string phone, string inviteCode) => Run(() => _world.Join(phone, inviteCode));

    public Task<SimulatedWorldAnswer<bool>> LeaveAsync(string phone, string groupJid) => Run(() => _world.Leave(phone, groupJid));

    public Task<SimulatedGroupPost?> PostAsync(string phone, string groupJid) => Run(() => _world.Post(phone, groupJid));

    private Task<T> Run<T>(Func<T> call)
    {
        lock (_gate)
            return Task.FromResult(call());
    }
}

/// <summary>
/// The customer's world actor. Its groups live in memory only: a restart of the whole cluster (or the death of the node
/// holding it) forgets the simulated groups, as a demo network may.
/// </summary>
[KeepAlive]
public sealed class SimulatedWorldGrain(IOptions<SimulatorOptions> options, TimeProvider time, ILogger<SimulatedWorldGrain> logger) : Grain, ISimulatedWorldGrain
{
    // Nodes ask for the directory again every minute while they use it (SimulatedDirectory.CacheLifetime).
    private readonly ObserverManager<ISimulatorNodeObserver> _nodes = new(TimeSpan.FromMinutes(5), logger);
    private LocalSimulatedWorld? _world;

    private LocalSimulatedWorld World => _world ??= new LocalSimulatedWorld(CustomerId, options.Value, time);

    private int CustomerId => (int)this.GetPrimaryKeyLong();

    public async Task RegisterAsync(string phone, SimulatedPhoneEntry entry)
    {
        await World.RegisterAsync(phone, entry);
        _nodes.Notify(n => n.OnPhoneChanged(CustomerId, phone, entry));
    }

    public async Task UnregisterAsync(string phone, Guid token)
    {
        if (await World.TryUnregisterAsync(phone, token))
            _nodes.Notify(n => n.OnPhoneChanged(CustomerId, phone, null));
    }

    public Task<Dictionary<string, SimulatedPhoneEntry>> DirectoryAsync(ISimulatorNodeObserver? node, Dictionary<string, SimulatedPhoneEntry> here)
    {
        if (node is not null)
            _nodes.Subscribe(node, node);
        return World.DirectoryAsync(null, here);
    }

    public Task<SimulatedConditions> ConditionsAsync(string phone) => World.ConditionsAsync(phone);

    public Task<SimulatedConditions> UpdateConditionsAsync(string phone, SimulatedConditionsChange change) => World.UpdateConditionsAsync(phone, change);

    public Task<IReadOnlyList<EngineGroup>> ListGroupsAsync(string phone) => World.ListGroupsAsync(phone);

    public Task<SimulatedWorldAnswer<EngineGroup>> GetGroupAsync(string phone, string groupJid) => World.GetGroupAsync(phone, groupJid);

    public Task<SimulatedWorldAnswer<EngineGroup>> CreateGroupAsync(string phone, string subject, IReadOnlyList<string> participants) =>
        World.CreateGroupAsync(phone, subject, participants);

    public Task<SimulatedWorldAnswer<IReadOnlyList<EngineParticipantOutcome>>> UpdateParticipantsAsync(string phone, string groupJid, string action,
        IReadOnlyList<SimulatedParticipantRef> participants) => World.UpdateParticipantsAsync(phone, groupJid, action, participants);

    public Task<SimulatedWorldAnswer<bool>> UpdateGroupAsync(string phone, string groupJid, EngineGroupChange change) => World.UpdateGroupAsync(phone, groupJid, change);

    public Task<SimulatedWorldAnswer<string>> InviteCodeAsync(string phone, string groupJid, bool revoke) => World.InviteCodeAsync(phone, groupJid, revoke);

    public Task<SimulatedWorldAnswer<string>> JoinAsync(string phone, string inviteCode) => World.JoinAsync(phone, inviteCode);

    public Task<SimulatedWorldAnswer<bool>> LeaveAsync(string phone, string groupJid) => World.LeaveAsync(phone, groupJid);

    public Task<SimulatedGroupPost?> PostAsync(string phone, string groupJid) => World.PostAsync(phone, groupJid);
}

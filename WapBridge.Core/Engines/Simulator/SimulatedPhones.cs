using WapBridge.Core.Instances;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// The simulator's phone-side actions (scan, message, drop, unlink) for an instance on any node: straight into the
/// simulated network when its session is here, else through its actor on the node where it lives.
/// </summary>
public sealed class SimulatedPhones(SimulatorNetwork network, LocalInstances local, IGrainFactory grains)
{
    public Task ScanAsync(string instanceCode, string phoneNumber, string? pushName, CancellationToken ct = default) =>
        local.Session(instanceCode) is not null
            ? network.ScanAsync(instanceCode, phoneNumber, pushName, ct)
            : Remote(instanceCode).ScanAsync(phoneNumber, pushName);

    public async Task<string> InjectInboundAsync(string instanceCode, SimulatedInbound inbound, CancellationToken ct = default) =>
        local.Session(instanceCode) is not null
            ? await network.InjectInboundAsync(instanceCode, inbound, ct)
            : await Remote(instanceCode).InjectInboundAsync(await SimulatedInboundCall.FromAsync(inbound, ct));

    public async Task<string> InjectCallAsync(string instanceCode, SimulatedCall call, CancellationToken ct = default) =>
        local.Session(instanceCode) is not null
            ? await network.InjectCallAsync(instanceCode, call, ct)
            : await Remote(instanceCode).InjectCallAsync(call);

    public Task InjectPresenceAsync(string instanceCode, SimulatedPresence presence, CancellationToken ct = default) =>
        local.Session(instanceCode) is not null
            ? network.InjectPresenceAsync(instanceCode, presence, ct)
            : Remote(instanceCode).InjectPresenceAsync(presence);

    public Task DropConnectionAsync(string instanceCode, CancellationToken ct = default) =>
        local.Session(instanceCode) is not null ? network.DropConnectionAsync(instanceCode, ct) : Remote(instanceCode).DropConnectionAsync();

    public Task UnlinkFromPhoneAsync(string instanceCode, CancellationToken ct = default) =>
        local.Session(instanceCode) is not null ? network.UnlinkFromPhoneAsync(instanceCode, ct) : Remote(instanceCode).UnlinkFromPhoneAsync();

    /// <summary>
    /// Changes what WhatsApp does to <paramref name="phone"/> (contract §12) in the customer's world, where every node
    /// reads it, and has the instance's session play it now, wherever it lives; answers the conditions as they are now.
    /// </summary>
    public async Task<SimulatedConditions> SetConditionsAsync(int customerId, string instanceCode, string phone, SimulatedConditionsChange change,
        CancellationToken ct = default)
    {
        var conditions = await network.World(customerId).UpdateConditionsAsync(phone, change);
        if (local.Session(instanceCode) is not null)
            await network.ApplyConditionsAsync(instanceCode, conditions, ct);
        else
            await Remote(instanceCode).ApplyConditionsAsync(conditions);
        return conditions;
    }

    private ISimulatedPhoneGrain Remote(string instanceCode) => grains.GetGrain<ISimulatedPhoneGrain>(instanceCode);
}

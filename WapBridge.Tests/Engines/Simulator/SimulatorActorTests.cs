using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Simulator;

/// <summary>
/// The simulator's contacts and groups through the instance actor on a node of its own (SQLite, a cluster of one): the
/// customer's world actor holds the groups, refusals arrive as the API's errors, and member instances hear every change.
/// </summary>
public sealed class SimulatorActorTests : IAsyncLifetime
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "sim-actor-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<EngineEvent> events = new();
    private InstanceNode node = null!;

    private sealed class Recorder(ConcurrentQueue<EngineEvent> events) : IInstanceEventObserver
    {
        public Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
        {
            events.Enqueue(engineEvent);
            return Task.CompletedTask;
        }
    }

    public async ValueTask InitializeAsync()
    {
        node = new InstanceNode(dataDir, TimeProvider.System, services => services.AddSingleton<IInstanceEventObserver>(new Recorder(events)));
        await node.StartAsync();
    }

    private async Task<T> WaitAsync<T>(string instanceCode, Func<T, bool> match) where T : EngineEvent
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (events.OfType<T>().FirstOrDefault(e => e.InstanceId == instanceCode && match(e)) is { } found)
                return found;
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        throw new TimeoutException($"{instanceCode} never got the {typeof(T).Name} expected.");
    }

    private async Task<IInstanceGrain> ConnectedAsync(int customerId, string phone)
    {
        var code = (await node.Services.GetRequiredService<InstanceService>().CreateAsync(customerId, "Shop " + phone, "simulator", null)).InstanceId;
        await node.Services.GetRequiredService<SimulatedPhones>().ScanAsync(code, phone, "Shop " + phone, TestContext.Current.CancellationToken);
        await WaitAsync<ConnectedEvent>(code, _ => true);
        return node.Services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(code);
    }

    [Fact]
    public async Task Groups_and_contacts_work_through_the_instance_actor_with_the_apis_errors()
    {
        var customer = await node.Services.GetRequiredService<CustomerService>().CreateAsync("Actor world", "actor-world@example.com");
        var owner = await ConnectedAsync(customer.Id, "255700000601");
        var member = await ConnectedAsync(customer.Id, "255700000602");

        var checks = await owner.CheckNumbersAsync(["255755123456", "255755129999"]);
        Assert.Equal([true, false], checks.Select(c => c!.OnWhatsApp));
        Assert.Equal("255755123456", (await owner.GetProfileAsync(checks[0]!.Lid + "@lid")).Phone);

        var group = await owner.CreateGroupAsync("Actors", ["255700000602", "255755123456"]);
        await WaitAsync<GroupParticipantsEvent>(member.GetPrimaryKeyString(), e => e.GroupJid == group.GroupJid);
        Assert.Equal(group.GroupJid, Assert.Single(await member.ListGroupsAsync()).GroupJid);
        var outcomes = await owner.UpdateGroupParticipantsAsync(group.GroupJid, GroupParticipantActions.Add, ["255755129999", "255755100003"]);
        Assert.Equal([GroupParticipantStatuses.NotOnWhatsApp, GroupParticipantStatuses.Added], outcomes.Select(o => o.Status));

        var code = await owner.GetGroupInviteCodeAsync(group.GroupJid);
        Assert.Equal(code, await owner.GetGroupInviteCodeAsync(group.GroupJid));
        Assert.NotEqual(code, await owner.RevokeGroupInviteCodeAsync(group.GroupJid));

        var notAdmin = await Assert.ThrowsAsync<WapBridgeException>(() => member.UpdateGroupAsync(group.GroupJid, new EngineGroupChange(Announce: true)));
        Assert.Equal((ErrorKind.Conflict, "not_group_admin"), (notAdmin.Kind, notAdmin.Code));
        var unknown = await Assert.ThrowsAsync<WapBridgeException>(() => owner.GetGroupAsync("120363000000000001@g.us"));
        Assert.Equal((ErrorKind.NotFound, "group_not_found"), (unknown.Kind, unknown.Code));
        var badLink = await Assert.ThrowsAsync<WapBridgeException>(() => member.JoinGroupAsync(code));
        Assert.Equal((ErrorKind.NotFound, "invite_not_found"), (badLink.Kind, badLink.Code));

        await member.LeaveGroupAsync(group.GroupJid);
        var left = await WaitAsync<GroupParticipantsEvent>(owner.GetPrimaryKeyString(), e => e.Action == "leave");
        Assert.Equal("255700000602", left.ByPhone);
        Assert.Empty(await member.ListGroupsAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await node.DisposeAsync();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

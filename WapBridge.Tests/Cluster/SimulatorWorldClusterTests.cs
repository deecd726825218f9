using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Cluster;

/// <summary>
/// The simulated network of one customer spans the cluster (contract §9): its instances on two nodes message each other
/// both ways and share a group; another customer's instance reaches neither.
/// </summary>
public sealed class SimulatorWorldClusterTests : IAsyncLifetime
{
    private readonly TwoNodes cluster = new("sim-world");
    private readonly Recorder recorder = new();

    /// <summary>Every engine event of every instance on both nodes, as the host hands them to its features.</summary>
    private sealed class Recorder : IInstanceEventObserver
    {
        private readonly ConcurrentQueue<EngineEvent> _events = new();

        public Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
        {
            _events.Enqueue(engineEvent);
            return Task.CompletedTask;
        }

        public IEnumerable<T> Of<T>(string instanceCode) where T : EngineEvent => _events.OfType<T>().Where(e => e.InstanceId == instanceCode);

        public async Task<T> WaitAsync<T>(string instanceCode, Func<T, bool> match) where T : EngineEvent
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                if (Of<T>(instanceCode).FirstOrDefault(match) is { } found)
                    return found;
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            throw new TimeoutException($"{instanceCode} never got the {typeof(T).Name} expected.");
        }
    }

    public async ValueTask InitializeAsync() => await cluster.StartAsync(services => services.AddSingleton<IInstanceEventObserver>(recorder));

    private async Task<string> ConnectedAsync(int customerId, string name, string phone)
    {
        var services = cluster.Nodes[0].Services;
        var code = (await services.GetRequiredService<InstanceService>().CreateAsync(customerId, name, "simulator", null)).InstanceId;
        await services.GetRequiredService<SimulatedPhones>().ScanAsync(code, phone, name, TestContext.Current.CancellationToken);
        await recorder.WaitAsync<ConnectedEvent>(code, _ => true);
        return code;
    }

    private IEngineSession SessionOf(string code) =>
        cluster.Nodes.Select(n => n.Services.GetRequiredService<LocalInstances>().Session(code)).Single(s => s is not null)!;

    private InstanceNode HomeOf(string code) => cluster.Nodes.Single(n => n.Services.GetRequiredService<LocalInstances>().Session(code) is not null);

    private IInstanceGrain Actor(string code) => cluster.Nodes[0].Services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(code);

    [Fact]
    public async Task Instances_of_one_customer_on_two_nodes_message_each_other_and_share_a_group_and_another_customer_reaches_neither()
    {
        Assert.SkipWhen(cluster.Database is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        var customers = cluster.Nodes[0].Services.GetRequiredService<CustomerService>();
        var owner = await customers.CreateAsync("Sim world", "sim-world@example.com");
        var other = await customers.CreateAsync("Sim other", "sim-other@example.com");
        const string alicePhone = "255700000501", bobPhone = "255700000502", malloryPhone = "255700000503";
        var alice = await ConnectedAsync(owner.Id, "Alice", alicePhone);
        var bob = await ConnectedAsync(owner.Id, "Bob", bobPhone);
        Assert.NotEqual(HomeOf(alice), HomeOf(bob));
        var mallory = await ConnectedAsync(other.Id, "Mallory", malloryPhone);

        // Both ways, each recipient seeing the sender's message id.
        var toBob = new OutgoingMessage(WhatsAppIds.NewMessageId(), bobPhone, "Habari from node A");
        Assert.True((await SessionOf(alice).SendAsync(toBob, TestContext.Current.CancellationToken)).Accepted);
        var atBob = await recorder.WaitAsync<MessageReceivedEvent>(bob, e => e.Message.Id == toBob.Id);
        Assert.Equal((alicePhone, "Habari from node A", "Alice"), (atBob.Message.FromPhone, atBob.Message.Body, atBob.Message.PushName));
        var toAlice = new OutgoingMessage(WhatsAppIds.NewMessageId(), alicePhone, "Salama from node B");
        Assert.True((await SessionOf(bob).SendAsync(toAlice, TestContext.Current.CancellationToken)).Accepted);
        Assert.Equal(bobPhone, (await recorder.WaitAsync<MessageReceivedEvent>(alice, e => e.Message.Id == toAlice.Id)).Message.FromPhone);

        // Bob reads Alice's message on his node: her message turns blue on hers.
        await Actor(bob).MarkReadAsync([new EngineMessageKey(toBob.Id, alicePhone + "@s.whatsapp.net", false)]);
        await recorder.WaitAsync<MessageStatusEvent>(alice, e => e.MessageId == toBob.Id && e.Ack == MessageAck.Read);
        Assert.Equal("Bob", (await Actor(alice).GetProfileAsync(bobPhone)).PushName);

        // A group made on Alice's node: Bob hears of it on his, lists it, and posts in it.
        var group = await Actor(alice).CreateGroupAsync("Both nodes", [bobPhone, malloryPhone]);
        var added = await recorder.WaitAsync<GroupParticipantsEvent>(bob, e => e.GroupJid == group.GroupJid);
        Assert.Equal((GroupParticipantActions.Add, alicePhone), (added.Action, added.ByPhone));
        await recorder.WaitAsync<GroupParticipantsEvent>(alice, e => e.GroupJid == group.GroupJid);
        Assert.Equal(group.GroupJid, Assert.Single(await Actor(bob).ListGroupsAsync()).GroupJid);
        var post = new OutgoingMessage(WhatsAppIds.NewMessageId(), group.GroupJid, "Hello group") { ToJid = group.GroupJid };
        Assert.True((await SessionOf(bob).SendAsync(post, TestContext.Current.CancellationToken)).Accepted);
        var inGroup = await recorder.WaitAsync<MessageReceivedEvent>(alice, e => e.Message.Id == post.Id);
        Assert.Equal((group.GroupJid, bobPhone), (inGroup.Message.GroupId, inGroup.Message.FromPhone));
        await Actor(bob).UpdateGroupAsync(group.GroupJid, new EngineGroupChange(Description: "Shared"));
        Assert.Equal(bobPhone, (await recorder.WaitAsync<GroupUpdateEvent>(alice, e => e.Change.Description == "Shared")).ByPhone);

        // Another customer's instance: its number was just a contact in that group, and its sends reach nobody.
        var fromMallory = new OutgoingMessage(WhatsAppIds.NewMessageId(), alicePhone, "Let me in");
        Assert.True((await SessionOf(mallory).SendAsync(fromMallory, TestContext.Current.CancellationToken)).Accepted);
        var malloryGroup = await Actor(mallory).CreateGroupAsync("Outsiders", [alicePhone, bobPhone]);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(recorder.Of<GroupParticipantsEvent>(mallory), e => e.GroupJid == group.GroupJid);
        Assert.DoesNotContain(await Actor(mallory).ListGroupsAsync(), g => g.GroupJid == group.GroupJid);
        Assert.DoesNotContain(recorder.Of<MessageReceivedEvent>(alice), e => e.Message.Id == fromMallory.Id);
        Assert.DoesNotContain(recorder.Of<GroupParticipantsEvent>(alice), e => e.GroupJid == malloryGroup.GroupJid);
        Assert.DoesNotContain(recorder.Of<GroupParticipantsEvent>(bob), e => e.GroupJid == malloryGroup.GroupJid);
    }

    [Fact]
    public async Task A_number_paired_on_one_node_is_reachable_from_the_other_at_once()
    {
        Assert.SkipWhen(cluster.Database is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        var owner = await cluster.Nodes[0].Services.GetRequiredService<CustomerService>().CreateAsync("Sim relink", "sim-relink@example.com");
        var alice = await ConnectedAsync(owner.Id, "Alice", "255700000511");
        var bob = await ConnectedAsync(owner.Id, "Bob", "255700000512");
        Assert.NotEqual(HomeOf(alice), HomeOf(bob));
        var first = new OutgoingMessage(WhatsAppIds.NewMessageId(), "255700000512", "Before");
        await SessionOf(alice).SendAsync(first, TestContext.Current.CancellationToken);
        await recorder.WaitAsync<MessageReceivedEvent>(bob, e => e.Message.Id == first.Id);

        // Bob's phone unlinks him and he pairs again as another number: Alice's node, which already knows the
        // customer's phones, hears of it from the world rather than a minute later.
        var phones = cluster.Nodes[0].Services.GetRequiredService<SimulatedPhones>();
        await phones.UnlinkFromPhoneAsync(bob, TestContext.Current.CancellationToken);
        await Actor(bob).OpenAsync();
        await phones.ScanAsync(bob, "255700000513", "Bob again", TestContext.Current.CancellationToken);
        await recorder.WaitAsync<ConnectedEvent>(bob, e => e.PhoneNumber == "255700000513");
        var second = new OutgoingMessage(WhatsAppIds.NewMessageId(), "255700000513", "After");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        // The notice is one-way: the first send may overtake it by a moment.
        while (!recorder.Of<MessageReceivedEvent>(bob).Any(e => e.Message.Body == "After") && DateTime.UtcNow < deadline)
        {
            await SessionOf(alice).SendAsync(second with { Id = WhatsAppIds.NewMessageId() }, TestContext.Current.CancellationToken);
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
        Assert.Contains(recorder.Of<MessageReceivedEvent>(bob), e => e.Message.Body == "After" && e.Message.FromPhone == "255700000511");
        var old = new OutgoingMessage(WhatsAppIds.NewMessageId(), "255700000512", "To the old number");
        await SessionOf(alice).SendAsync(old, TestContext.Current.CancellationToken);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(recorder.Of<MessageReceivedEvent>(bob), e => e.Message.Id == old.Id);
    }

    [Fact]
    public async Task A_scan_from_the_other_node_syncs_the_phones_address_book_where_the_instance_lives()
    {
        Assert.SkipWhen(cluster.Database is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        var owner = await cluster.Nodes[0].Services.GetRequiredService<CustomerService>().CreateAsync("Sim book", "sim-book@example.com");
        var code = (await cluster.Nodes[0].Services.GetRequiredService<InstanceService>().CreateAsync(owner.Id, "Book", "simulator", null,
            ct: TestContext.Current.CancellationToken)).InstanceId;
        await recorder.WaitAsync<QrCodeEvent>(code, _ => true);
        var away = cluster.Nodes.Single(n => n != HomeOf(code));

        await away.Services.GetRequiredService<SimulatedPhones>().ScanAsync(code, "255700000521", "Book", ["255755000521", "255755000522"],
            TestContext.Current.CancellationToken);

        var synced = await recorder.WaitAsync<ContactsSyncedEvent>(code, _ => true);
        Assert.Equal([new EngineContactRef("255755000521", null), new EngineContactRef("255755000522", null)], synced.Contacts);
    }

    public ValueTask DisposeAsync() => cluster.DisposeAsync();
}

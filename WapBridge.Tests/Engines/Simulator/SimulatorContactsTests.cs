using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;

namespace WapBridge.Tests.Engines.Simulator;

[Trait("Category", "Unit")]
public sealed class SimulatorContactsTests
{
    private readonly SimulatorHarness _sim = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Numbers_answer_by_the_not_on_whatsapp_rule_with_a_jid_and_a_stable_lid()
    {
        var shop = await _sim.ConnectAsync("INST-01-0000101", "255700000101");

        var answers = await shop.Session.CheckNumbersAsync(["255755123456", "255755129999", "000", "255755123456"], Ct);

        var first = answers[0]!;
        Assert.True(first.OnWhatsApp);
        Assert.Equal("255755123456@s.whatsapp.net", first.Jid);
        Assert.Matches("^[1-9][0-9]{14}$", first.Lid);
        Assert.Equal(first, answers[3]);
        Assert.Equal(new NumberCheckResult(false, null), answers[1]);
        Assert.Equal(new NumberCheckResult(false, null), answers[2]);
        Assert.Equal(first, await shop.Session.CheckNumberAsync("255755123456", Ct));
        // The send path keeps failing such numbers itself: the outbox does not check before each send.
        Assert.False(shop.Session.ChecksNumbers);
    }

    [Fact]
    public async Task A_numbers_lid_is_the_same_on_every_network_of_one_customer_and_differs_between_customers()
    {
        var mine = await _sim.ConnectAsync("INST-01-0000102", "255700000102", customerId: 1);
        var theirs = await _sim.ConnectAsync("INST-01-0000103", "255700000103", customerId: 2);
        var elsewhere = await new SimulatorHarness().ConnectAsync("INST-01-0000104", "255700000104", customerId: 1);

        var lid = (await mine.Session.CheckNumberAsync("255755123456", Ct))!.Lid;

        Assert.Equal(lid, (await elsewhere.Session.CheckNumberAsync("255755123456", Ct))!.Lid);
        Assert.NotEqual(lid, (await theirs.Session.CheckNumberAsync("255755123456", Ct))!.Lid);
        Assert.NotEqual(lid, (await mine.Session.CheckNumberAsync("255755123457", Ct))!.Lid);
    }

    [Fact]
    public async Task A_profile_shows_the_instances_push_name_or_a_stable_made_up_one_and_reads_lids_back()
    {
        var shop = await _sim.ConnectAsync("INST-01-0000105", "255700000105", pushName: "Duka");
        var branch = await _sim.ConnectAsync("INST-01-0000106", "255700000106", pushName: "Tawi");
        var stranger = await _sim.ConnectAsync("INST-01-0000107", "255700000107", customerId: 2, pushName: "Other");

        var own = await shop.Session.GetProfileAsync("255700000105", Ct);
        Assert.Equal(("255700000105", "Duka"), (own.Phone, own.PushName));
        Assert.Matches("^[1-9][0-9]{14}$", own.Lid);
        Assert.Equal("Tawi", (await shop.Session.GetProfileAsync("255700000106", Ct)).PushName);
        // Another customer's instance is an ordinary contact here: its push name is not told.
        Assert.NotEqual("Other", (await shop.Session.GetProfileAsync("255700000107", Ct)).PushName);

        var contact = await shop.Session.GetProfileAsync("255755123456", Ct);
        Assert.False(string.IsNullOrWhiteSpace(contact.PushName));
        Assert.False(string.IsNullOrWhiteSpace(contact.About));
        Assert.Null(contact.PictureUrl);
        Assert.Equal(contact, await shop.Session.GetProfileAsync("255755123456", Ct));
        Assert.Equal(contact, await shop.Session.GetProfileAsync(contact.Lid + "@lid", Ct));
        Assert.Equal("255700000106", (await shop.Session.GetProfileAsync(
            (await shop.Session.CheckNumberAsync("255700000106", Ct))!.Lid + "@lid", Ct)).Phone);
        _ = stranger;
    }

    [Fact]
    public async Task A_profile_of_a_number_not_on_whatsapp_or_an_unknown_lid_is_not_found()
    {
        var shop = await _sim.ConnectAsync("INST-01-0000108", "255700000108");

        Assert.Equal("not_on_whatsapp", (await Assert.ThrowsAsync<EngineNotFoundException>(() => shop.Session.GetProfileAsync("255755129999", Ct))).Code);
        Assert.Equal("not_on_whatsapp", (await Assert.ThrowsAsync<EngineNotFoundException>(() => shop.Session.GetProfileAsync("999999999999999@lid", Ct))).Code);
    }

    [Fact]
    public async Task An_instances_own_lid_reads_back_as_its_number()
    {
        var shop = await _sim.ConnectAsync("INST-01-0000109", "255700000109");
        var branch = await _sim.ConnectAsync("INST-01-0000110", "255700000110");
        // Given out elsewhere (another node), never here: the connected instance is still known by it.
        var probe = await new SimulatorHarness().ConnectAsync("INST-01-0000111", "255700000111");
        var lid = (await probe.Session.CheckNumberAsync("255700000110", Ct))!.Lid;

        Assert.Equal("255700000110", (await shop.Session.GetProfileAsync(lid + "@lid", Ct)).Phone);
        _ = branch;
    }

    [Fact]
    public async Task A_sender_known_only_by_a_lid_of_this_world_is_paired_with_its_number()
    {
        var shop = await _sim.ConnectAsync("INST-01-0000112", "255700000112");
        var lid = (await shop.Session.CheckNumberAsync("255755123456", Ct))!.Lid!;

        await _sim.Network.InjectInboundAsync(shop.InstanceId, new SimulatedInbound(null, lid + "@lid", "Habari"), Ct);
        await _sim.Network.InjectInboundAsync(shop.InstanceId, new SimulatedInbound(null, "120542636048510@lid", "Unknown"), Ct);

        var mapping = Assert.Single(shop.Sink.Of<LidMappingEvent>());
        Assert.Equal((lid, "255755123456"), (mapping.Lid, mapping.PhoneNumber));
        var messages = shop.Sink.Of<MessageReceivedEvent>().Select(e => e.Message).ToList();
        Assert.Equal([(null, lid + "@lid"), (null, "120542636048510@lid")], messages.Select(m => (m.FromPhone, m.FromLid)));
    }
}

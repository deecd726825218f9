using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Health;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>
/// Which contacts an instance already knows (issue #20, contract §12): the simulated phone's address book synced on
/// connect, and contacts who wrote to it first in a direct chat. Those never count against the new-contact budget; a
/// group message makes nobody a known contact.
/// </summary>
public abstract class KnownContactsTests(WapBridgeApp app)
{
    private const string Inbound = "wap_bridge.api.simulator.inbound_message";

    private NewContactBudget Budget => app.Services.GetRequiredService<NewContactBudget>();

    private async Task<int> InstanceIdAsync(string code)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync();
    }

    private async Task<List<KnownContact>> KnownAsync(int instanceId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.KnownContacts.AsNoTracking().Where(k => k.InstanceId == instanceId).OrderBy(k => k.Id).ToListAsync();
    }

    private async Task<(HttpClient Client, string InstanceId)> CreateInstanceAsync(string? defaultCountry = null)
    {
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        var instanceId = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator", default_country = defaultCountry }))
            .EnsureOk().Message!["instance_id"]!.GetValue<string>();
        return (client, instanceId);
    }

    [Fact]
    public async Task Scan_qr_with_contacts_syncs_the_phones_address_book_as_known_contacts()
    {
        app.SkipIfUnavailable();
        var (client, code) = await CreateInstanceAsync(defaultCountry: "TZ");

        var scanned = await client.CallAsync("wap_bridge.api.simulator.scan_qr", new
        {
            instance_id = code,
            phone_number = "255700400001",
            contacts = new[] { "+255 755 400 101", "0755400102", "255755400101", "255700400001" },
        });

        Assert.Equal("connected", scanned.EnsureOk().Message!["status"]!.GetValue<string>());
        var id = await InstanceIdAsync(code);
        Assert.True(await Budget.IsKnownAsync(id, "255755400101", TestContext.Current.CancellationToken));
        Assert.True(await Budget.IsKnownAsync(id, "255755400102", TestContext.Current.CancellationToken));
        Assert.False(await Budget.IsKnownAsync(id, "255755400199", TestContext.Current.CancellationToken));
        // Each number once, the phone's own number not at all; none is a first message ("messaged"), which the budget counts.
        var rows = await KnownAsync(id);
        Assert.Equal(["255755400101", "255755400102"], rows.Select(r => r.Number).Order());
        Assert.All(rows, r => Assert.Equal((KnownContactSources.Synced, (string?)null), (r.Source, r.Lid)));
    }

    [Fact]
    public async Task Scan_qr_with_a_bad_contact_is_417_naming_its_index_and_pairs_nothing()
    {
        app.SkipIfUnavailable();
        var (client, code) = await CreateInstanceAsync();

        var bad = await client.CallAsync("wap_bridge.api.simulator.scan_qr", new
        {
            instance_id = code,
            phone_number = "255700400002",
            contacts = new[] { "255755400201", "call me" },
        });

        Assert.Equal(417, bad.Status);
        Assert.Equal("contacts[1]", bad.ErrorField);
        var status = (await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = code })).EnsureOk().Message!;
        Assert.NotEqual("connected", status["status"]!.GetValue<string>());
        Assert.Empty(await KnownAsync(await InstanceIdAsync(code)));

        var unknown = await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = code, phone_number = "255700400002", contacts = new[] { "0755400201" } });
        Assert.Equal(417, unknown.Status);
        Assert.Equal("contacts[0]", unknown.ErrorField);
    }

    [Fact]
    public async Task A_direct_message_from_a_stranger_makes_them_a_contact_who_wrote_first()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var id = await InstanceIdAsync(owner.InstanceId);
        Assert.False(await Budget.IsKnownAsync(id, "255755400301", TestContext.Current.CancellationToken));

        (await owner.Client.CallAsync(Inbound, new { instance_id = owner.InstanceId, from_number = "255755400301", message = "Habari, bei gani?" })).EnsureOk();
        (await owner.Client.CallAsync(Inbound, new { instance_id = owner.InstanceId, from_number = "255755400301", message = "Bado upo?" })).EnsureOk();

        Assert.True(await Budget.IsKnownAsync(id, "255755400301", TestContext.Current.CancellationToken));
        var row = Assert.Single(await KnownAsync(id));
        Assert.Equal(("255755400301", KnownContactSources.WroteFirst), (row.Number, row.Source));
    }

    [Fact]
    public async Task A_group_message_makes_nobody_a_known_contact()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var id = await InstanceIdAsync(owner.InstanceId);

        (await owner.Client.CallAsync(Inbound, new
        {
            instance_id = owner.InstanceId, from_number = "255755400401", group_id = "120363025246125401@g.us", message = "Karibuni wote",
        })).EnsureOk();

        Assert.False(await Budget.IsKnownAsync(id, "255755400401", TestContext.Current.CancellationToken));
        Assert.Empty(await KnownAsync(id));
    }

    [Fact]
    public async Task A_sender_known_only_by_LID_is_remembered_by_LID_and_by_both_once_the_number_is_known()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var id = await InstanceIdAsync(owner.InstanceId);

        (await owner.Client.CallAsync(Inbound, new { instance_id = owner.InstanceId, from_lid = "190000000400501", message = "Hujambo" })).EnsureOk();
        // A message naming both ids teaches the LID mapping first, as an engine does.
        (await owner.Client.CallAsync(Inbound, new
        {
            instance_id = owner.InstanceId, from_number = "255755400502", from_lid = "190000000400502@lid", message = "Sijambo",
        })).EnsureOk();
        // The same person again, by LID only: the number the instance learned makes them known already.
        (await owner.Client.CallAsync(Inbound, new { instance_id = owner.InstanceId, from_lid = "190000000400502", message = "Tena" })).EnsureOk();

        var rows = await KnownAsync(id);
        Assert.Equal(2, rows.Count);
        Assert.Equal((null, "190000000400501", KnownContactSources.WroteFirst), (rows[0].Number, rows[0].Lid, rows[0].Source));
        Assert.Equal(("255755400502", "190000000400502", KnownContactSources.WroteFirst), (rows[1].Number, rows[1].Lid, rows[1].Source));
        Assert.True(await Budget.IsKnownAsync(id, "255755400502", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_synced_contact_who_writes_keeps_its_first_source()
    {
        app.SkipIfUnavailable();
        var (client, code) = await CreateInstanceAsync();
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = code, phone_number = "255700400006", contacts = new[] { "255755400601" } })).EnsureOk();

        (await client.CallAsync(Inbound, new { instance_id = code, from_number = "255755400601", message = "Niko hapa" })).EnsureOk();

        var row = Assert.Single(await KnownAsync(await InstanceIdAsync(code)));
        Assert.Equal(("255755400601", KnownContactSources.Synced), (row.Number, row.Source));
    }
}

public sealed class SqliteKnownContactsTests(SqliteMessagingApp app) : KnownContactsTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresKnownContactsTests(PostgresMessagingApp app) : KnownContactsTests(app), IClassFixture<PostgresMessagingApp>;

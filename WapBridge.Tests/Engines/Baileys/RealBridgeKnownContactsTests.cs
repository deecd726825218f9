using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Health;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using FakeWhatsApp = WapBridge.Tests.Engines.Baileys.RealBridgeSendTests.FakeWhatsApp;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// Known contacts on a Baileys instance end to end (issue #20): the chats the phone syncs to the linked device (a history
/// sync the real Baileys decodes, reported by the real bridge as <c>contacts_synced</c>) and a contact who writes first
/// become known contacts of the instance, so they never count against its new-contact budget. All on loopback.
/// </summary>
public sealed class RealBridgeKnownContactsTests
{
    private const string Contact = "255712345678";

    [Fact]
    public async Task Chats_the_phone_syncs_and_a_contact_who_writes_first_become_known_contacts()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, Contact);
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings(RealBridgeSendTests.Settings(bridgeDir, wa)));
        await app.InitializeAsync();
        var (client, instance) = await RealBridgeSendTests.LinkAsync(app, await app.CreateCustomerAsync(), wa);
        using var _ = client;
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        int instanceId;
        await using (var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken))
            instanceId = await db.Instances.Where(i => i.Code == instance).Select(i => i.Id).SingleAsync(TestContext.Current.CancellationToken);

        await wa.CommandAsync(new
        {
            @do = "history_sync",
            conversations = new object[]
            {
                new { id = "255755300001@s.whatsapp.net", displayName = "Neema" },
                new { id = "190000000300002@lid", pnJid = "255755300002@s.whatsapp.net" },
                new { id = "190000000300003@lid" },
                new { id = "120363025246300004@g.us", name = "Duka" },
            },
        });
        var synced = await RowsAsync(dbFactory, instanceId, rows => rows.Count >= 3);
        Assert.Equal(
            [("255755300001", null), ("255755300002", "190000000300002"), (null, "190000000300003")],
            synced.OrderBy(r => r.Number ?? "~", StringComparer.Ordinal).Select(r => (r.Number, r.Lid)));
        Assert.All(synced, r => Assert.Equal(KnownContactSources.Synced, r.Source));

        await wa.CommandAsync(new { @do = "send", from = Contact, message = new { conversation = "Habari, bado mna mchele?" } });
        var all = await RowsAsync(dbFactory, instanceId, rows => rows.Any(r => r.Number == Contact));
        Assert.Equal(KnownContactSources.WroteFirst, all.Single(r => r.Number == Contact).Source);
        var budget = app.Services.GetRequiredService<NewContactBudget>();
        Assert.True(await budget.IsKnownAsync(instanceId, Contact, TestContext.Current.CancellationToken));
        Assert.True(await budget.IsKnownAsync(instanceId, "255755300002", TestContext.Current.CancellationToken));
        Assert.False(await budget.IsKnownAsync(instanceId, "255755300099", TestContext.Current.CancellationToken));
    }

    private static async Task<List<KnownContact>> RowsAsync(IDbContextFactory<WapBridgeDbContext> dbFactory, int instanceId, Func<List<KnownContact>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken);
            var rows = await db.KnownContacts.AsNoTracking().Where(k => k.InstanceId == instanceId).ToListAsync(TestContext.Current.CancellationToken);
            if (done(rows))
                return rows;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException("known contacts never got there; last: " + string.Join(", ", rows.Select(r => $"{r.Number}/{r.Lid}/{r.Source}")));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}

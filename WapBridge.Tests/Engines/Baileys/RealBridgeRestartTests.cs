using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using static WapBridge.Tests.Engines.Baileys.RealBridgeSendTests;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The Baileys auth state (creds and Signal keys) round-trips through the real C# store: a device paired on the fake
/// WhatsApp server by one WapBridge is resumed by the next one on the same database, with no QR, and its Signal
/// sessions still encrypt for the contact.
/// </summary>
public sealed class RealBridgeRestartTests
{
    private const string Contact = "255712345678";

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_paired_instance_reconnects_after_a_WapBridge_restart_without_a_QR_and_still_sends_what_the_contact_decrypts(string provider)
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var postgres = provider == "postgres" ? RequirePostgres() : null;
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, Contact);
        var settings = FastMessaging.Settings(Settings(bridgeDir, wa));
        if (postgres is not null)
            settings["WapBridge:Database:ConnectionString"] = postgres.ConnectionString;
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));

        TestCustomer customer;
        string instance;
        await using (var first = new WapBridgeApp(provider, settings, dataDir: dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            customer = await first.CreateCustomerAsync();
            var (client, linked) = await LinkAsync(first, customer, wa);
            using var _ = client;
            instance = linked;
            Assert.Equal("first", await SendAndDecryptAsync(first, client, instance, wa, "first"));

            await using var scope = first.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
            var row = await db.Instances.AsNoTracking().SingleAsync(i => i.Code == instance);
            Assert.NotNull(row.EngineCredentials);
            Assert.True(await db.EngineAuthEntries.AnyAsync(e => e.InstanceId == row.Id && e.Category == "session"),
                "the Signal session with the contact is in the database");
        }

        // The host is gone (its bridge process with it); a new one starts on the same database and data folder.
        await using var second = new WapBridgeApp(provider, settings, dataDir: dataDir);
        await second.InitializeAsync();
        using var again = second.CreateApiClient(customer.TokenHeader);
        var seen = new List<string>();
        await again.WaitForStatusAsync(instance, s =>
        {
            var state = s["status"]!.GetValue<string>();
            if (seen.Count == 0 || seen[^1] != state)
                seen.Add(state);
            return state == "connected";
        }, 60);
        Assert.DoesNotContain("qr", seen);
        Assert.Equal(404, (await again.CallAsync("wap_bridge.api.instances.get_qr", new { instance_id = instance })).Status);
        Assert.Equal("after the restart", await SendAndDecryptAsync(second, again, instance, wa, "after the restart"));
    }

    private static PostgresDatabase RequirePostgres()
    {
        var server = PostgresDatabase.ServerConnection();
        if (server is null)
            Assert.Skip($"PostgreSQL is not available: set {PostgresDatabase.ServerVariable} (scripts/test.sh does).");
        return PostgresDatabase.Create(server);
    }

    /// <summary>Sends through the API and answers the text the contact's device decrypted.</summary>
    private static async Task<string> SendAndDecryptAsync(WapBridgeApp app, HttpClient client, string instance, FakeWhatsApp wa, string text)
    {
        var sent = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instance, to_number = Contact, message = text }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        await client.WaitForMessageAsync(sent, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read", 30);
        await using var scope = app.Services.CreateAsyncScope();
        var waId = await scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>().Messages.Where(m => m.SerializedId == sent).Select(m => m.WaMessageId).SingleAsync();
        var decrypted = await wa.CommandAsync(new { @do = "decrypted", id = waId });
        Assert.Null(decrypted["decryptError"]);
        return decrypted["text"]!.GetValue<string>();
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Persistence;

/// <summary>
/// A data folder and database as the release before the shared store left them (key ring files in <c>keys/</c>, media
/// files in <c>media/</c>, the database encrypted with those keys): after the upgrade a stored webhook secret, an
/// instance's auth-state entry and a media message all still work.
/// </summary>
public abstract class UpgradeToSharedStateTests(string provider) : IAsyncDisposable
{
    private const string Secret = "upgrade-secret-123";
    private const string AuthPurpose = "WapBridge.Instances.EngineAuthState";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "upgrade-" + Guid.NewGuid().ToString("N"));
    private PostgresDatabase? _database;

    private Dictionary<string, string?>? Shared()
    {
        if (provider == "sqlite")
            return [];
        if (PostgresDatabase.ServerConnection() is not { } server)
            return null;
        _database ??= PostgresDatabase.Create(server);
        return new() { ["WapBridge:Database:Provider"] = "postgres", ["WapBridge:Database:ConnectionString"] = _database.ConnectionString };
    }

    private static Dictionary<string, string?> Settings(Dictionary<string, string?> shared, IDictionary<string, string?>? extra = null)
    {
        var settings = FastWebhooks.Settings(extra);
        foreach (var (key, value) in shared) settings[key] = value;
        return settings;
    }

    /// <summary>Puts the database's key ring back into key files and its media back into files, as the old release kept them.</summary>
    private async Task MakeItTheOldWayAsync(IDbContextFactory<WapBridgeDbContext> factory)
    {
        await using var db = await factory.CreateDbContextAsync();
        var keys = Directory.CreateDirectory(Path.Combine(_dataDir, "keys"));
        foreach (var key in await db.DataProtectionKeys.ToListAsync())
            await File.WriteAllTextAsync(Path.Combine(keys.FullName, key.FriendlyName + ".xml"), key.Xml);
        await db.DataProtectionKeys.ExecuteDeleteAsync();
        foreach (var blob in await db.MediaBlobs.ToListAsync())
        {
            var chunks = await db.MediaChunks.Where(c => c.Hash == blob.Hash).OrderBy(c => c.Index).Select(c => c.Data).ToListAsync();
            var folder = Directory.CreateDirectory(Path.Combine(_dataDir, "media", blob.Hash[..2]));
            await File.WriteAllBytesAsync(Path.Combine(folder.FullName, blob.Hash), chunks.SelectMany(c => c).ToArray());
        }
        await db.MediaBlobs.ExecuteDeleteAsync();
    }

    private static async Task<int> InstanceIdAsync(WapBridgeApp app, string code)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync();
    }

    private static InstanceAuthStore AuthStore(WapBridgeApp app, int instanceId) => new(
        app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(),
        app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(AuthPurpose), instanceId, TimeProvider.System);

    [Fact]
    public async Task Webhook_secret_auth_state_and_media_made_before_the_upgrade_still_work()
    {
        var shared = Shared();
        if (shared is null)
            Assert.Skip($"PostgreSQL is not available: set {PostgresDatabase.ServerVariable}.");
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync();
        var inbound = SharedNodeTests.Document(1024 * 1024 + 4097);
        SendingCustomer alice, bob;
        string queued, mediaUrl;
        int instanceId;

        var throttled = Settings(shared, new Dictionary<string, string?> { ["WapBridge:Messaging:InstanceMessagesPerSecond"] = "0.001" });
        await using (var old = new WapBridgeApp(settings: throttled, dataDir: _dataDir) { KeepDataDir = true })
        {
            await old.InitializeAsync();
            alice = await old.CreateConnectedAsync();
            bob = await old.ConnectInstanceAsync(alice.Customer);
            (await alice.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, secret = Secret })).EnsureOk();
            instanceId = await InstanceIdAsync(old, alice.InstanceId);
            await AuthStore(old, instanceId).SetAsync([new EngineAuthChange("creds", "me", "paired-before-the-upgrade")], ct);
            (await alice.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new
            {
                instance_id = alice.InstanceId, from_number = "255755123456", media_data = Convert.ToBase64String(inbound), mime_type = "application/pdf", filename = "old.pdf",
            })).EnsureOk();
            mediaUrl = new Uri(JsonNode.Parse((await receiver.WaitForAsync(r => r.Count >= 1, 20))[0].Body)!["message"]!["media"]!["url"]!.GetValue<string>()).PathAndQuery;
            (await alice.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = alice.InstanceId, to_number = bob.Phone, message = "first" })).EnsureOk();
            queued = (await alice.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new
            {
                instance_id = alice.InstanceId, to_number = bob.Phone, media_data = Convert.ToBase64String(SharedNodeTests.Document(200_000)), mime_type = "application/pdf", filename = "queued.pdf",
            })).EnsureOk().Message!["id"]!.GetValue<string>();
            Assert.Equal("queued", (await alice.Client.WaitForMessageAsync(queued, _ => true))["status"]!.GetValue<string>());
            await MakeItTheOldWayAsync(old.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>());
        }
        var keyFiles = Directory.GetFiles(Path.Combine(_dataDir, "keys"), "*.xml");
        Assert.NotEmpty(keyFiles);

        await using var upgraded = new WapBridgeApp(settings: Settings(shared), dataDir: _dataDir) { KeepDataDir = true };
        await upgraded.InitializeAsync();
        var factory = upgraded.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();

        // The key files were imported once and left in place.
        await using (var db = await factory.CreateDbContextAsync(ct))
            Assert.Equal(keyFiles.Select(Path.GetFileNameWithoutExtension).Order(), (await db.DataProtectionKeys.Select(k => k.FriendlyName).ToListAsync(ct)).Order());
        Assert.All(keyFiles, f => Assert.True(File.Exists(f)));
        Assert.Equal(0, await DataProtectionKeyImport.ImportAsync(factory, Path.Combine(_dataDir, "keys"), NullLogger.Instance, ct));

        // Auth state written before the upgrade decrypts.
        var creds = await AuthStore(upgraded, instanceId).GetAsync("creds", ["me"], ct);
        Assert.Equal("paired-before-the-upgrade", creds["me"]);

        // The queued media message goes out, and the media link sent before the upgrade still serves its file.
        using var aliceAgain = upgraded.CreateApiClient(alice.Customer.TokenHeader);
        await aliceAgain.WaitForMessageAsync(queued, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read", 30);
        using var anonymous = upgraded.CreateApiClient();
        var download = await anonymous.GetAsync(mediaUrl, ct);
        Assert.Equal(200, (int)download.StatusCode);
        Assert.Equal(inbound, await download.Content.ReadAsByteArrayAsync(ct));

        // The stored webhook secret still signs.
        (await aliceAgain.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = alice.InstanceId, from_number = "255755123456", message = "after upgrade" })).EnsureOk();
        var signed = (await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("after upgrade")), 20)).First(h => h.Body.Contains("after upgrade"));
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret),
            Encoding.UTF8.GetBytes($"{signed.Header("webhook-id")}.{signed.Header("webhook-timestamp")}.{signed.Body}")));
        Assert.Equal(expected, signed.Header("webhook-signature"));

        if (provider == "postgres")
        {
            // Media moved into the database: the old folder holds no media file any more.
            await using var db = await factory.CreateDbContextAsync(ct);
            Assert.True(await db.MediaBlobs.AnyAsync(ct));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dataDir, "media"), "*", SearchOption.AllDirectories));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
            await _database.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteUpgradeToSharedStateTests() : UpgradeToSharedStateTests("sqlite");

public sealed class PostgresUpgradeToSharedStateTests() : UpgradeToSharedStateTests("postgres");

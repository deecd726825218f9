using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Persistence;

/// <summary>
/// Two WapBridge nodes with separate data folders on one database: what node A encrypted (webhook secrets, engine
/// credentials, media links) and the media it accepted are used by node B, with nothing copied between their folders.
/// </summary>
public abstract class SharedNodeTests : IAsyncDisposable
{
    private const string Secret = "shared-node-secret-123";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "shared-" + Guid.NewGuid().ToString("N"));

    protected string NodeDir(string name) => Path.Combine(_root, name);
    protected string Root => _root;

    /// <summary>The settings both nodes share (database, media), or null when the provider is not available here.</summary>
    protected abstract Task<Dictionary<string, string?>?> SharedSettingsAsync();

    public static byte[] Document(int size)
    {
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        "%PDF-1.4\n"u8.CopyTo(bytes);
        "\n%%EOF\n"u8.CopyTo(bytes.AsSpan(size - 7));
        return bytes;
    }

    [Fact]
    public async Task Node_B_decrypts_what_node_A_encrypted_and_serves_and_sends_its_media()
    {
        var shared = await SharedSettingsAsync();
        if (shared is null)
            Assert.Skip($"PostgreSQL is not available: set {PostgresDatabase.ServerVariable}.");
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync();
        // Over two chunks, so the database store's chunking is what is read back.
        var document = Document(2 * 1024 * 1024 + 123_457);
        SendingCustomer alice, bob;
        string queued, mediaUrl;

        // Node A sends one message per ~17 minutes: the second stays queued for node B.
        var throttled = FastWebhooks.Settings(new Dictionary<string, string?> { ["WapBridge:Messaging:InstanceMessagesPerSecond"] = "0.001" });
        foreach (var (key, value) in shared) throttled[key] = value;
        await using (var a = new WapBridgeApp(settings: throttled, dataDir: NodeDir("a")))
        {
            await a.InitializeAsync();
            alice = await a.CreateConnectedAsync();
            bob = await a.ConnectInstanceAsync(alice.Customer);
            (await alice.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, secret = Secret })).EnsureOk();
            (await alice.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new
            {
                instance_id = alice.InstanceId, from_number = "255755123456", media_data = Convert.ToBase64String(document), mime_type = "application/pdf", filename = "big.pdf",
            })).EnsureOk();
            var hook = JsonNode.Parse((await receiver.WaitForAsync(r => r.Count >= 1, 20))[0].Body)!;
            mediaUrl = new Uri(hook["message"]!["media"]!["url"]!.GetValue<string>()).PathAndQuery;

            (await alice.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = alice.InstanceId, to_number = bob.Phone, message = "first" })).EnsureOk();
            queued = (await alice.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new
            {
                instance_id = alice.InstanceId, to_number = bob.Phone, media_data = Convert.ToBase64String(Document(300_000)), mime_type = "application/pdf", filename = "queued.pdf",
            })).EnsureOk().Message!["id"]!.GetValue<string>();
            Assert.Equal("queued", (await alice.Client.WaitForMessageAsync(queued, _ => true))["status"]!.GetValue<string>());
        }

        var settings = FastWebhooks.Settings();
        foreach (var (key, value) in shared) settings[key] = value;
        await using var b = new WapBridgeApp(settings: settings, dataDir: NodeDir("b"));
        await b.InitializeAsync();
        using var aliceOnB = b.CreateApiClient(alice.Customer.TokenHeader);

        // Engine credentials decrypted: the instance reconnects on B and sends A's queued media message.
        await aliceOnB.WaitForMessageAsync(queued, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read", 30);

        // A's signed media link, served by B from the shared store.
        using var anonymous = b.CreateApiClient();
        var download = await anonymous.GetAsync(mediaUrl, ct);
        Assert.Equal(200, (int)download.StatusCode);
        Assert.Equal(document, await download.Content.ReadAsByteArrayAsync(ct));

        // The webhook secret set through A signs B's delivery.
        (await aliceOnB.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = alice.InstanceId, from_number = "255755123456", message = "on node B" })).EnsureOk();
        var signed = (await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("on node B")), 20)).First(h => h.Body.Contains("on node B"));
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret),
            Encoding.UTF8.GetBytes($"{signed.Header("webhook-id")}.{signed.Header("webhook-timestamp")}.{signed.Body}")));
        Assert.Equal(expected, signed.Header("webhook-signature"));

        // Nothing of it lived on a node's disk: no key ring and no media in either data folder.
        foreach (var node in new[] { "a", "b" })
        {
            Assert.False(Directory.Exists(Path.Combine(NodeDir(node), "keys")), $"node {node} wrote a key ring to its data folder");
            Assert.Empty(Directory.Exists(Path.Combine(NodeDir(node), "media"))
                ? Directory.EnumerateFiles(Path.Combine(NodeDir(node), "media"), "*", SearchOption.AllDirectories) : []);
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
        await ValueTask.CompletedTask;
    }
}

/// <summary>PostgreSQL: key ring and media (in chunks) in the database.</summary>
public sealed class PostgresSharedNodeTests : SharedNodeTests
{
    private PostgresDatabase? _database;

    protected override Task<Dictionary<string, string?>?> SharedSettingsAsync()
    {
        if (PostgresDatabase.ServerConnection() is not { } server)
            return Task.FromResult<Dictionary<string, string?>?>(null);
        _database = PostgresDatabase.Create(server);
        return Task.FromResult<Dictionary<string, string?>?>(new()
        {
            ["WapBridge:Database:Provider"] = "postgres",
            ["WapBridge:Database:ConnectionString"] = _database.ConnectionString,
        });
    }

    public override async ValueTask DisposeAsync()
    {
        if (_database is not null)
            await _database.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>SQLite: key ring in the database file, media in the configured shared folder.</summary>
public sealed class SqliteSharedFolderNodeTests : SharedNodeTests
{
    protected override Task<Dictionary<string, string?>?> SharedSettingsAsync() => Task.FromResult<Dictionary<string, string?>?>(new()
    {
        ["WapBridge:Database:ConnectionString"] = $"Data Source={Path.Combine(Root, "shared.db")}",
        ["WapBridge:Media:SharedDirectory"] = Path.Combine(Root, "shared-media"),
    });
}

using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.TestHost;

/// <summary>Settings that make the simulator fast and the outbox unthrottled, so message tests run in milliseconds.</summary>
public static class FastMessaging
{
    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Simulator:SendLatency"] = "00:00:00",
            ["WapBridge:Engines:Simulator:DeliveredAfter"] = "00:00:00.100",
            ["WapBridge:Engines:Simulator:ReadAfter"] = "00:00:00.200",
            ["WapBridge:Messaging:InstanceMessagesPerSecond"] = "0",
            ["WapBridge:Messaging:SweepInterval"] = "00:00:00.200",
            ["WapBridge:Messaging:MediaLimits:ImageBytes"] = "65536",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        return settings;
    }
}

public sealed class SqliteMessagingApp() : WapBridgeApp("sqlite", FastMessaging.Settings());

public sealed class PostgresMessagingApp() : WapBridgeApp("postgres", FastMessaging.Settings());

/// <summary>A customer with a connected simulator instance, ready to send.</summary>
public sealed record SendingCustomer(TestCustomer Customer, HttpClient Client, string InstanceId, string Phone);

public static class SendingCustomers
{
    public static async Task<SendingCustomer> CreateConnectedAsync(this WapBridgeApp app, string? phone = null, string? defaultCountry = null) =>
        await app.ConnectInstanceAsync(await app.CreateCustomerAsync(), phone, defaultCountry);

    /// <summary>
    /// Another connected simulator instance of <paramref name="customer"/>. The simulator network is per customer: only
    /// instances of one customer message each other.
    /// </summary>
    public static async Task<SendingCustomer> ConnectInstanceAsync(this WapBridgeApp app, TestCustomer customer, string? phone = null, string? defaultCountry = null)
    {
        var client = app.CreateApiClient(customer.TokenHeader);
        phone ??= "2557" + Random.Shared.Next(10_000_000, 99_999_999);
        var instanceId = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator", default_country = defaultCountry }))
            .EnsureOk().Message!["instance_id"]!.GetValue<string>();
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = instanceId, phone_number = phone })).EnsureOk();
        return new SendingCustomer(customer, client, instanceId, phone);
    }

    /// <summary>Polls message_status until <paramref name="done"/> holds (receipts arrive asynchronously).</summary>
    public static async Task<System.Text.Json.Nodes.JsonNode> WaitForMessageAsync(this HttpClient client, string id, Func<System.Text.Json.Nodes.JsonNode, bool> done, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var record = (await client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id })).EnsureOk().Message!;
            if (done(record)) return record;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"message {id} never reached the expected state; last: {record.ToJsonString()}");
            await Task.Delay(50);
        }
    }
}

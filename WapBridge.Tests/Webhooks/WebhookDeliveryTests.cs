using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Webhooks;

public static class FastWebhooks
{
    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? overrides = null)
    {
        var settings = FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Webhooks:AllowLoopbackTargets"] = "true",
            ["WapBridge:Webhooks:AttemptTimeout"] = "00:00:01",
            ["WapBridge:Webhooks:RetrySchedule:0"] = "00:00:00.300",
            ["WapBridge:Webhooks:RetrySchedule:1"] = "00:00:00.300",
            ["WapBridge:Webhooks:RetrySchedule:2"] = "00:00:00.300",
        });
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        return settings;
    }
}

public sealed class SqliteWebhookApp() : WapBridgeApp("sqlite", FastWebhooks.Settings());

public sealed class PostgresWebhookApp() : WapBridgeApp("postgres", FastWebhooks.Settings());

public abstract class WebhookDeliveryTests(WapBridgeApp app)
{
    private const string TinyJpeg = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=";
    private const string Secret = "receiver-shared-secret-123";

    private async Task<(SendingCustomer Sender, WebhookReceiver Receiver)> SubscribedAsync(object? extra = null, string? events = null)
    {
        var sender = await app.CreateConnectedAsync();
        var receiver = await WebhookReceiver.StartAsync();
        var args = new JsonObject { ["url"] = receiver.Url, ["secret"] = Secret };
        if (events is not null) args["events"] = JsonNode.Parse(events);
        (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", args)).EnsureOk();
        return (sender, receiver);
    }

    private static Task<ApiAnswer> InjectAsync(SendingCustomer sender, object args) =>
        sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", args);

    [Fact]
    public async Task Text_message_arrives_in_the_seed_shape()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        var id = (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "Sawa", push_name = "Asha" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();

        var hook = (await receiver.WaitForAsync(r => r.Count >= 1))[0];
        Assert.StartsWith("application/json", hook.Header("content-type"));
        var body = JsonNode.Parse(hook.Body)!.AsObject();
        Assert.Equal(["event", "instance_id", "customer", "phone_number", "message"], body.Select(p => p.Key));
        Assert.Equal("message", body["event"]!.GetValue<string>());
        Assert.Equal(sender.InstanceId, body["instance_id"]!.GetValue<string>());
        Assert.Equal(sender.Customer.Code, body["customer"]!.GetValue<string>());
        Assert.Equal(sender.Phone, body["phone_number"]!.GetValue<string>());
        var message = body["message"]!.AsObject();
        Assert.Equal(["id", "from", "to", "body", "fromMe", "timestamp", "type", "hasMedia"], message.Select(p => p.Key).Take(8));
        Assert.Equal(id, message["id"]!.GetValue<string>());
        Assert.Equal("255755123456@c.us", message["from"]!.GetValue<string>());
        Assert.Equal(sender.Phone + "@c.us", message["to"]!.GetValue<string>());
        Assert.Equal("Sawa", message["body"]!.GetValue<string>());
        Assert.False(message["fromMe"]!.GetValue<bool>());
        Assert.InRange(message["timestamp"]!.GetValue<long>(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.Equal("chat", message["type"]!.GetValue<string>());
        Assert.False(message["hasMedia"]!.GetValue<bool>());
        Assert.Equal("Asha", message["pushName"]!.GetValue<string>());
        Assert.Equal("255755123456", message["fromPhone"]!.GetValue<string>());
        Assert.False(message["isGroup"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Image_with_caption_carries_inline_data_and_a_working_signed_url()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", media_data = TinyJpeg, mime_type = "image/jpeg", filename = "photo.jpg", caption = "Sawa" })).EnsureOk();

        var message = JsonNode.Parse((await receiver.WaitForAsync(r => r.Count >= 1))[0].Body)!["message"]!;
        Assert.Equal("image", message["type"]!.GetValue<string>());
        Assert.True(message["hasMedia"]!.GetValue<bool>());
        Assert.Equal("Sawa", message["body"]!.GetValue<string>());
        Assert.Equal("Sawa", message["caption"]!.GetValue<string>());
        var media = message["media"]!;
        Assert.Equal("image/jpeg", media["mimetype"]!.GetValue<string>());
        Assert.Equal("photo.jpg", media["filename"]!.GetValue<string>());
        Assert.Equal(TinyJpeg, media["data"]!.GetValue<string>());
        Assert.Equal(Convert.FromBase64String(TinyJpeg).Length, media["filesize"]!.GetValue<long>());

        var url = new Uri(media["url"]!.GetValue<string>());
        using var anonymous = app.CreateApiClient();
        var download = await anonymous.GetAsync(url.PathAndQuery, TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)download.StatusCode);
        Assert.Equal(Convert.FromBase64String(TinyJpeg), await download.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        var forged = await anonymous.GetAsync(url.AbsolutePath[..^4] + "AAAA", TestContext.Current.CancellationToken);
        Assert.Equal(404, (int)forged.StatusCode);
    }

    [Fact]
    public async Task Document_lid_sender_and_group_message_follow_the_id_rules()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        const string pdf = "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9G";
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", media_data = pdf, mime_type = "application/pdf", filename = "invoice.pdf" })).EnsureOk();
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_lid = "120542636048510", message = "Sawa" })).EnsureOk();
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", group_id = "120363025246125486", message = "Hi all" })).EnsureOk();

        var hooks = (await receiver.WaitForAsync(r => r.Count >= 3)).Select(h => JsonNode.Parse(h.Body)!["message"]!).ToList();
        var document = hooks.Single(m => m["type"]!.GetValue<string>() == "document");
        Assert.Equal("invoice.pdf", document["media"]!["filename"]!.GetValue<string>());
        Assert.Equal("", document["body"]!.GetValue<string>());

        var lid = hooks.Single(m => m["from"]!.GetValue<string>().EndsWith("@lid"));
        Assert.Equal("120542636048510@lid", lid["from"]!.GetValue<string>());
        Assert.StartsWith("false_120542636048510@lid_", lid["id"]!.GetValue<string>());
        Assert.Equal("120542636048510@lid", lid["fromLid"]!.GetValue<string>());
        Assert.Null(lid["fromPhone"]);

        var group = hooks.Single(m => m["isGroup"]!.GetValue<bool>());
        Assert.Equal("120363025246125486@g.us", group["from"]!.GetValue<string>());
        Assert.Equal("255755123456@c.us", group["author"]!.GetValue<string>());
        Assert.EndsWith("_255755123456@c.us", group["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Secret_header_and_standard_webhooks_signature_verify()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "signed" })).EnsureOk();

        var hook = (await receiver.WaitForAsync(r => r.Count >= 1))[0];
        Assert.Equal(Secret, hook.Header("X-Wapbridge-Secret"));
        var id = hook.Header("webhook-id");
        var timestamp = hook.Header("webhook-timestamp");
        Assert.StartsWith("evt_", id);
        Assert.InRange(long.Parse(timestamp), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 300, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{id}.{timestamp}.{hook.Body}")));
        Assert.Equal(expected, hook.Header("webhook-signature"));
    }

    [Fact]
    public async Task A_500_is_retried_with_the_same_webhook_id_and_fresh_timestamp()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        receiver.Respond = r => (receiver.Received.Count == 1 ? 500 : 200, TimeSpan.Zero, null);
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "retry me" })).EnsureOk();

        var hooks = await receiver.WaitForAsync(r => r.Count >= 2);
        Assert.Equal(hooks[0].Header("webhook-id"), hooks[1].Header("webhook-id"));
        Assert.Equal(hooks[0].Body, hooks[1].Body);
        var log = (await sender.Client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["data"]![0]!;
        await WaitForDeliveryAsync(sender, d => d["state"]!.GetValue<string>() == "delivered");
        Assert.NotNull(log);
    }

    [Fact]
    public async Task A_receiver_that_times_out_is_retried()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        receiver.Respond = r => (200, receiver.Received.Count == 1 ? TimeSpan.FromSeconds(3) : TimeSpan.Zero, null);
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "slow" })).EnsureOk();

        await receiver.WaitForAsync(r => r.Count >= 2);
        var delivery = await WaitForDeliveryAsync(sender, d => d["state"]!.GetValue<string>() == "delivered");
        Assert.Equal(2, delivery["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task Retry_after_from_the_receiver_is_honoured()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        receiver.Respond = r => receiver.Received.Count == 1 ? (503, TimeSpan.Zero, new Dictionary<string, string> { ["Retry-After"] = "2" }) : (200, TimeSpan.Zero, null);
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "later please" })).EnsureOk();

        var hooks = await receiver.WaitForAsync(r => r.Count >= 2);
        var gap = hooks[1].At - hooks[0].At;
        Assert.True(gap >= TimeSpan.FromSeconds(1.8), $"retried after {gap.TotalSeconds:0.00} s, before the 2 s the receiver asked for");
    }

    [Fact]
    public async Task Gone_disables_the_endpoint_and_says_so()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        receiver.Respond = _ => (410, TimeSpan.Zero, null);
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "anyone?" })).EnsureOk();

        var delivery = await WaitForDeliveryAsync(sender, d => d["state"]!.GetValue<string>() == "dead");
        Assert.Equal(410, delivery["last_status_code"]!.GetValue<int>());
        var settings = (await sender.Client.CallAsync("wap_bridge.api.settings.get_webhook")).EnsureOk().Message!;
        Assert.False(settings["enabled"]!.GetValue<bool>());
        Assert.Contains("410", settings["disabled_reason"]!.GetValue<string>());

        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "second" })).EnsureOk();
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task Replay_sends_a_delivery_again_with_its_webhook_id()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        (await InjectAsync(sender, new { instance_id = sender.InstanceId, from_number = "255755123456", message = "again" })).EnsureOk();
        var delivery = await WaitForDeliveryAsync(sender, d => d["state"]!.GetValue<string>() == "delivered");

        var replay = (await sender.Client.CallAsync("wap_bridge.api.settings.redeliver_webhook", new { delivery = delivery["delivery"]!.GetValue<long>() })).EnsureOk();
        Assert.True(replay.Message!["delivered"]!.GetValue<bool>());
        var hooks = await receiver.WaitForAsync(r => r.Count >= 2);
        Assert.Equal(hooks[0].Header("webhook-id"), hooks[1].Header("webhook-id"));
    }

    [Fact]
    public async Task Test_event_reports_what_the_receiver_said()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        var result = (await sender.Client.CallAsync("wap_bridge.api.settings.test_webhook")).EnsureOk().Message!;
        Assert.True(result["delivered"]!.GetValue<bool>());
        Assert.Equal(200, result["status_code"]!.GetValue<int>());
        Assert.Equal("test", JsonNode.Parse(receiver.Received.Single().Body)!["event"]!.GetValue<string>());
    }

    [Fact]
    public async Task Customers_never_receive_each_others_events()
    {
        app.SkipIfUnavailable();
        var (first, firstReceiver) = await SubscribedAsync();
        var (second, secondReceiver) = await SubscribedAsync();
        await using var _ = firstReceiver;
        await using var __ = secondReceiver;
        (await InjectAsync(first, new { instance_id = first.InstanceId, from_number = "255755123456", message = "for first" })).EnsureOk();
        (await InjectAsync(second, new { instance_id = second.InstanceId, from_number = "255755123456", message = "for second" })).EnsureOk();

        await firstReceiver.WaitForAsync(r => r.Count >= 1);
        await secondReceiver.WaitForAsync(r => r.Count >= 1);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal("for first", JsonNode.Parse(Assert.Single(firstReceiver.Received).Body)!["message"]!["body"]!.GetValue<string>());
        Assert.Equal("for second", JsonNode.Parse(Assert.Single(secondReceiver.Received).Body)!["message"]!["body"]!.GetValue<string>());
        Assert.Equal(1, (await second.Client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Opt_in_events_use_the_envelope()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync(events: """["message.ack","message.sent","instance.status"]""");
        await using var _ = receiver;
        (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = "255755123456", message = "ack me" })).EnsureOk();

        var hooks = (await receiver.WaitForAsync(r => r.Select(h => JsonNode.Parse(h.Body)!).Count(b => b["event"]!.GetValue<string>() == "message.ack") >= 3))
            .Select(h => JsonNode.Parse(h.Body)!).ToList();
        var sent = hooks.Single(h => h["event"]!.GetValue<string>() == "message.sent");
        Assert.Equal(["event", "instance_id", "customer", "timestamp", "data"], sent.AsObject().Select(p => p.Key));
        Assert.Equal("255755123456", sent["data"]!["to"]!.GetValue<string>());
        var acks = hooks.Where(h => h["event"]!.GetValue<string>() == "message.ack").Select(h => h["data"]!["ack"]!.GetValue<int>()).Order().ToList();
        Assert.Equal([1, 2, 3], acks);

        (await sender.Client.CallAsync("wap_bridge.api.instances.logout_instance", new { instance_id = sender.InstanceId })).EnsureOk();
        var status = (await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("instance.status"))))
            .Select(h => JsonNode.Parse(h.Body)!).First(h => h["event"]!.GetValue<string>() == "instance.status");
        Assert.Equal("logged_out", status["data"]!["status"]!.GetValue<string>());
        Assert.DoesNotContain(hooks, h => h["event"]!.GetValue<string>() == "message");
    }

    [Theory]
    [InlineData("ftp://example.invalid/hook", "invalid_url")]
    [InlineData("not a url", "invalid_url")]
    [InlineData("http://10.0.0.5/hook", "private_target")]
    [InlineData("http://192.168.1.10/hook", "private_target")]
    [InlineData("http://192.0.2.1/hook", "private_target")]
    [InlineData("http://[64:ff9b::7f00:1]/hook", "private_target")]
    [InlineData("http://[::127.0.0.1]/hook", "private_target")]
    [InlineData("https://user:secret@hooks.example.com/hook", "invalid_url")]
    [InlineData("https://hooks.example.com/a b", "invalid_url")]
    public async Task Bad_webhook_urls_are_refused(string url, string code)
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var answer = await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url });
        Assert.Equal(417, answer.Status);
        Assert.Equal("url", answer.ErrorField);
        Assert.Equal(code, answer.ErrorCode);
    }

    [Theory]
    [InlineData("legacy-secret\r\nInjected: yes", "invalid_secret")]
    // NUL never reaches set_webhook: no text argument may carry it (PostgreSQL cannot store it).
    [InlineData("secret-with-a-nul-\u0000-inside", "invalid_text")]
    [InlineData("secret\twith-a-tab-inside", "invalid_secret")]
    [InlineData("s\u00e9cret-not-ascii-at-all", "invalid_secret")]
    [InlineData(" secret-with-a-leading-space", "invalid_secret")]
    [InlineData("too-short", "secret_too_short")]
    public async Task Bad_webhook_secrets_are_refused(string secret, string code)
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        secret = System.Text.RegularExpressions.Regex.Unescape(secret);
        var answer = await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = "https://hooks.invalid/x", secret });
        Assert.Equal(417, answer.Status);
        Assert.Equal(("secret", code), (answer.ErrorField, answer.ErrorCode));
        Assert.DoesNotContain(secret, answer.Body!.ToJsonString());
        Assert.Null((await client.CallAsync("wap_bridge.api.settings.get_webhook")).EnsureOk().Message!["url"]);
    }

    [Fact]
    public async Task Replies_of_receivers_on_loopback_are_not_shown_only_their_status()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        receiver.Respond = _ => (500, TimeSpan.Zero, null);

        var test = (await sender.Client.CallAsync("wap_bridge.api.settings.test_webhook")).EnsureOk().Message!;

        Assert.Equal(500, test["status_code"]!.GetValue<int>());
        var delivery = (await sender.Client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["data"]![0]!;
        Assert.Equal(500, delivery["last_status_code"]!.GetValue<int>());
        Assert.Equal("HTTP 500", delivery["last_error"]!.GetValue<string>());
        Assert.Null(delivery["last_response"]);
        Assert.DoesNotContain("receiver says no", delivery.ToJsonString());
    }

    [Fact]
    public async Task A_failed_connection_says_only_that()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        // A loopback port nobody listens on: the socket error would name the address and tell closed from filtered ports.
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = $"http://127.0.0.1:{port}/hook" })).EnsureOk();

        var test = (await sender.Client.CallAsync("wap_bridge.api.settings.test_webhook")).EnsureOk().Message!;

        Assert.False(test["delivered"]!.GetValue<bool>());
        Assert.Equal("Connection failed: the receiver could not be reached.", test["error"]!.GetValue<string>());
        Assert.Null(test["status_code"]);
    }

    [Fact]
    public async Task Secret_is_masked_and_a_generated_one_is_shown_once()
    {
        app.SkipIfUnavailable();
        var (sender, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        var settings = (await sender.Client.CallAsync("wap_bridge.api.settings.get_webhook")).EnsureOk();
        Assert.DoesNotContain(Secret, settings.Body!.ToJsonString());
        Assert.EndsWith(Secret[^4..], settings.Message!["secret_masked"]!.GetValue<string>());

        var generated = (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { generate_secret = true })).EnsureOk();
        var secret = generated.Message!["secret"]!.GetValue<string>();
        Assert.StartsWith("whsec_", secret);
        Assert.Null((await sender.Client.CallAsync("wap_bridge.api.settings.get_webhook")).EnsureOk().Message!["secret"]);
        (await sender.Client.CallAsync("wap_bridge.api.settings.test_webhook")).EnsureOk();
        Assert.Equal(secret, receiver.Received[^1].Header("X-Wapbridge-Secret"));
    }

    private static async Task<JsonNode> WaitForDeliveryAsync(SendingCustomer sender, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var data = (await sender.Client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["data"]!.AsArray();
            if (data.FirstOrDefault(d => done(d!)) is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("delivery never reached the state: " + data.ToJsonString());
            await Task.Delay(50);
        }
    }
}

public sealed class SqliteWebhookDeliveryTests(SqliteWebhookApp app) : WebhookDeliveryTests(app), IClassFixture<SqliteWebhookApp>;

public sealed class PostgresWebhookDeliveryTests(PostgresWebhookApp app) : WebhookDeliveryTests(app), IClassFixture<PostgresWebhookApp>;

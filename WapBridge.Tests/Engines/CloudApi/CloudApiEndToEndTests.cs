using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// A Cloud API instance used as a customer uses one (contract §11), through the API against the fake Graph: Meta's
/// callbacks in, the customer's webhook out, sends at Graph, the 24-hour window, templates, tenant isolation.
/// </summary>
public abstract class CloudApiEndToEndTests(CloudApiApp app)
{
    private const string W = "wap_bridge.api.whatsapp.";
    private const string WebhookSecret = "receiver-shared-secret-123";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(CloudApiTestInstance Instance, WebhookReceiver Receiver)> SubscribedAsync()
    {
        var number = CloudApiTestInstances.NewNumber();
        var instance = await app.CreateCloudApiInstanceAsync(number);
        var receiver = await WebhookReceiver.StartAsync();
        (await instance.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, secret = WebhookSecret })).EnsureOk();
        return (instance, receiver);
    }

    private static async Task PostFromMetaAsync(HttpClient client, CloudApiTestInstance instance, JsonObject payload)
    {
        using var answer = await MetaWebhooks.PostAsync(client, instance.InstanceId, instance.Number.AppSecret, payload);
        Assert.Equal(200, (int)answer.StatusCode);
    }

    /// <summary>Graph's id of one of our messages (what statuses name), as the outbox stored it.</summary>
    private async Task<string> WamidOfAsync(string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
            var wamid = await db.Messages.Where(m => m.SerializedId == id).Select(m => m.EngineMessageId).SingleOrDefaultAsync(Ct);
            if (wamid is not null)
                return wamid;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"message {id} never got Graph's id");
            await Task.Delay(50, Ct);
        }
    }

    private async Task<FakeGraphRequest> SendAtGraphAsync(CloudApiTestInstance instance, Func<FakeGraphRequest, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var send = app.Graph.Sends.FirstOrDefault(r => r.Path.Contains("/" + instance.Number.PhoneNumberId + "/", StringComparison.Ordinal) && match(r));
            if (send is not null)
                return send;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("Graph never got the send; it got: " + string.Join("\n", app.Graph.Sends.Select(s => s.Body)));
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>A contact writes to the business number: the window opens and the customer's webhook hears of it.</summary>
    private async Task<string> ContactWritesAsync(CloudApiTestInstance instance, string from, string text, WebhookReceiver? receiver = null)
    {
        var wamid = MetaWebhooks.NewWamid();
        using var meta = app.CreateApiClient();
        await PostFromMetaAsync(meta, instance, MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text(from, text, wamid)));
        if (receiver is not null)
            await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains(wamid, StringComparison.Ordinal)));
        else
            await app.WaitForInboundAsync(instance, wamid);
        return wamid;
    }

    [Fact]
    public async Task An_inbound_message_reaches_the_customers_webhook_and_a_reply_goes_to_graph_then_statuses_move_it_to_read()
    {
        app.SkipIfUnavailable();
        var (instance, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        const string contact = "255755123456";

        var inboundWamid = await ContactWritesAsync(instance, contact, "Habari, bei gani?", receiver);
        var hook = receiver.Received.Single(h => h.Body.Contains(inboundWamid, StringComparison.Ordinal));
        var body = JsonNode.Parse(hook.Body)!.AsObject();
        Assert.Equal(["event", "instance_id", "customer", "phone_number", "message"], body.Select(p => p.Key));
        Assert.Equal("message", body["event"]!.GetValue<string>());
        Assert.Equal(instance.InstanceId, body["instance_id"]!.GetValue<string>());
        Assert.Equal(instance.Phone, body["phone_number"]!.GetValue<string>());
        var message = body["message"]!;
        Assert.Equal(contact + "@c.us", message["from"]!.GetValue<string>());
        Assert.Equal(instance.Phone + "@c.us", message["to"]!.GetValue<string>());
        Assert.Equal("Habari, bei gani?", message["body"]!.GetValue<string>());
        Assert.Equal("chat", message["type"]!.GetValue<string>());
        Assert.False(message["fromMe"]!.GetValue<bool>());
        Assert.Equal("Asha", message["pushName"]!.GetValue<string>());
        Assert.Contains(inboundWamid, message["id"]!.GetValue<string>(), StringComparison.Ordinal);

        var sent = (await instance.Client.CallAsync(W + "send_api_message", new
        {
            instance_id = instance.InstanceId, to_number = "0755 123456", message = "Bei ni 5,000 TZS", wait = 10,
        })).EnsureOk().Message!;
        var id = sent["id"]!.GetValue<string>();
        Assert.Equal("sent", sent["status"]!.GetValue<string>());

        var request = await SendAtGraphAsync(instance, r => r.Json?["type"]?.GetValue<string>() == "text");
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/{FakeGraph.Version}/{instance.Number.PhoneNumberId}/messages", request.Path);
        Assert.Equal("Bearer " + instance.Number.AccessToken, request.Header("Authorization"));
        var expected = new JsonObject
        {
            ["messaging_product"] = "whatsapp", ["recipient_type"] = "individual", ["to"] = contact, ["type"] = "text",
            ["text"] = new JsonObject { ["preview_url"] = false, ["body"] = "Bei ni 5,000 TZS" },
        };
        Assert.True(JsonNode.DeepEquals(expected, request.Json), request.Body);

        // Our id stays the one we answered; Meta's statuses name its wamid.
        var wamid = await WamidOfAsync(id);
        Assert.DoesNotContain(wamid, id, StringComparison.Ordinal);
        using var meta = app.CreateApiClient();
        await PostFromMetaAsync(meta, instance, MetaWebhooks.Statuses(instance.Number.PhoneNumberId, MetaWebhooks.Status(wamid, "delivered", contact)));
        await instance.Client.WaitForMessageAsync(id, m => m["status"]!.GetValue<string>() == "delivered", 20);
        await PostFromMetaAsync(meta, instance, MetaWebhooks.Statuses(instance.Number.PhoneNumberId, MetaWebhooks.Status(wamid, "read", contact)));
        var read = await instance.Client.WaitForMessageAsync(id, m => m["status"]!.GetValue<string>() == "read", 20);
        Assert.Equal(id, read["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failed_status_fails_the_message_with_metas_reason()
    {
        app.SkipIfUnavailable();
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        const string contact = "255755123457";
        await ContactWritesAsync(instance, contact, "Niko hapa");
        var id = (await instance.Client.CallAsync(W + "send_api_message", new { instance_id = instance.InstanceId, to_number = contact, message = "Asante", wait = 10 }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var wamid = await WamidOfAsync(id);

        using var meta = app.CreateApiClient();
        await PostFromMetaAsync(meta, instance, MetaWebhooks.Statuses(instance.Number.PhoneNumberId,
            MetaWebhooks.Failed(wamid, contact, 131026, "Message undeliverable", "The recipient is not on WhatsApp")));
        var failed = await instance.Client.WaitForMessageAsync(id, m => m["status"]!.GetValue<string>() == "failed", 20);
        Assert.Equal("undeliverable", failed["error_code"]!.GetValue<string>());
        Assert.Contains("131026", failed["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outside_the_window_free_text_fails_with_template_required_409_when_waited_and_nothing_reaches_graph()
    {
        app.SkipIfUnavailable();
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        var before = app.Graph.Sends.Count(r => r.Path.Contains(instance.Number.PhoneNumberId, StringComparison.Ordinal));

        var answer = await instance.Client.CallAsync(W + "send_api_message", new
        {
            instance_id = instance.InstanceId, to_number = "255755000111", message = "Your invoice is ready", wait = 10,
        });
        Assert.Equal(409, answer.Status);
        Assert.Equal("template_required", answer.ErrorCode);
        var error = answer.Body!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("send_template", error, StringComparison.Ordinal);
        Assert.Contains("fallback_template", error, StringComparison.Ordinal);

        var listed = (await instance.Client.CallAsync(W + "list_messages", new { instance_id = instance.InstanceId, number = "255755000111" }))
            .EnsureOk().Message!["data"]!.AsArray().Single()!;
        Assert.Equal("failed", listed["status"]!.GetValue<string>());
        Assert.Equal("template_required", listed["error_code"]!.GetValue<string>());
        Assert.Equal(before, app.Graph.Sends.Count(r => r.Path.Contains(instance.Number.PhoneNumberId, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_erpnext_notification_outside_the_window_goes_out_as_the_fallback_template()
    {
        app.SkipIfUnavailable();
        if (!app.Graph.Templates.Any(t => t["name"]!.GetValue<string>() == "erp_notification"))
            app.Graph.Templates.Add(FakeGraph.Template("erp_notification", "en_US", "Message from Duka: {{1}}"));
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        (await instance.Client.CallAsync("wap_bridge.api.instances.update_instance", new
        {
            instance_id = instance.InstanceId, fallback_template = "erp_notification", fallback_template_language = "en_US",
        })).EnsureOk();

        // ERPNext as it sends with "Use POST" off: GET, the text and receiver in the query.
        var answer = await instance.Client.SendRawAsync(HttpMethod.Get,
            $"/api/method/{W}erpnext_notification_gateway?instance_id={instance.InstanceId}&to_number=0755000222&message=Sales%20Invoice%20SINV-0001%20is%20due");
        answer.EnsureOk();
        Assert.True(answer.Message!["ok"]!.GetValue<bool>());

        var request = await SendAtGraphAsync(instance, r => r.Json?["type"]?.GetValue<string>() == "template");
        Assert.Equal("255755000222", request.Json!["to"]!.GetValue<string>());
        var template = request.Json["template"]!;
        Assert.Equal("erp_notification", template["name"]!.GetValue<string>());
        Assert.Equal("en_US", template["language"]!["code"]!.GetValue<string>());
        var parameters = template["components"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "body")!["parameters"]!.AsArray();
        var parameter = Assert.Single(parameters)!;
        Assert.Equal("text", parameter["type"]!.GetValue<string>());
        Assert.Equal("Sales Invoice SINV-0001 is due", parameter["text"]!.GetValue<string>());
        Assert.DoesNotContain(app.Graph.Sends, r => r.Json?["to"]?.GetValue<string>() == "255755000222" && r.Json?["type"]?.GetValue<string>() == "text");
    }

    [Fact]
    public async Task Send_template_posts_the_template_with_its_components_to_graph()
    {
        app.SkipIfUnavailable();
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        var components = new JsonArray(new JsonObject
        {
            ["type"] = "body",
            ["parameters"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Asha" }, new JsonObject { ["type"] = "text", ["text"] = "SINV-0002" }),
        });
        var sent = (await instance.Client.CallAsync(W + "send_template", new JsonObject
        {
            ["instance_id"] = instance.InstanceId, ["to_number"] = "+255 755 000 333", ["template"] = "invoice_ready", ["language"] = "sw",
            ["components"] = components.DeepClone(), ["wait"] = 10,
        })).EnsureOk().Message!;
        Assert.Equal("sent", sent["status"]!.GetValue<string>());

        var request = await SendAtGraphAsync(instance, r => r.Json?["type"]?.GetValue<string>() == "template");
        Assert.Equal("Bearer " + instance.Number.AccessToken, request.Header("Authorization"));
        Assert.Equal("255755000333", request.Json!["to"]!.GetValue<string>());
        var template = request.Json["template"]!;
        Assert.Equal("invoice_ready", template["name"]!.GetValue<string>());
        Assert.Equal("sw", template["language"]!["code"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(components, template["components"]), template["components"]?.ToJsonString());
    }

    [Fact]
    public async Task A_replaced_app_secret_signs_the_next_callbacks_and_the_old_one_no_longer_does()
    {
        app.SkipIfUnavailable();
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        var newSecret = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        (await instance.Client.CallAsync("wap_bridge.api.instances.update_instance", new { instance_id = instance.InstanceId, cloudapi = new { app_secret = newSecret } }))
            .EnsureOk();

        using var meta = app.CreateApiClient();
        var payload = MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text("255755000444", "Hello"));
        using (var old = await MetaWebhooks.PostAsync(meta, instance.InstanceId, instance.Number.AppSecret, payload))
            Assert.Equal(401, (int)old.StatusCode);
        using (var renewed = await MetaWebhooks.PostAsync(meta, instance.InstanceId, newSecret, payload))
            Assert.Equal(200, (int)renewed.StatusCode);
        Assert.DoesNotContain(newSecret, app.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_customers_key_finds_no_cloud_api_instance_and_its_app_secret_signs_nothing_here()
    {
        app.SkipIfUnavailable();
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        var other = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        var calls = new (string Method, object Args)[]
        {
            ("instances.instance_status", new { instance_id = instance.InstanceId }),
            ("instances.update_instance", new { instance_id = instance.InstanceId, fallback_template = "erp_notification" }),
            ("instances.update_instance", new { instance_id = instance.InstanceId, cloudapi = new { access_token = "EAAG-stolen" } }),
            ("instances.restart_instance", new { instance_id = instance.InstanceId }),
            ("instances.delete_instance", new { instance_id = instance.InstanceId }),
            ("whatsapp.list_templates", new { instance_id = instance.InstanceId }),
            ("whatsapp.send_template", new { instance_id = instance.InstanceId, to_number = "255755000555", template = "invoice_ready", language = "en" }),
            ("whatsapp.send_api_message", new { instance_id = instance.InstanceId, to_number = "255755000555", message = "hi" }),
        };
        foreach (var (method, args) in calls)
        {
            var answer = await other.Client.CallAsync("wap_bridge.api." + method, args);
            Assert.True(answer.Status == 404, $"{method}: {answer.Status} {answer.Body?.ToJsonString()}");
            Assert.Equal("DoesNotExistError", answer.ExcType);
        }
        Assert.DoesNotContain(app.Graph.Sends, r => r.Json?["to"]?.GetValue<string>() == "255755000555");

        // The other customer's Meta app cannot post into this instance.
        using var meta = app.CreateApiClient();
        using var forged = await MetaWebhooks.PostAsync(meta, instance.InstanceId, other.Number.AppSecret,
            MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Mallory", MetaWebhooks.Text("255755000666", "hi")));
        Assert.Equal(401, (int)forged.StatusCode);
        Assert.Equal("connected", (await CloudApiTestInstances.WaitForStatusAsync(instance.Client, instance.InstanceId, "connected"))["status"]!.GetValue<string>());
    }
}

public sealed class SqliteCloudApiEndToEndTests(SqliteCloudApiApp app) : CloudApiEndToEndTests(app), IClassFixture<SqliteCloudApiApp>;

public sealed class PostgresCloudApiEndToEndTests(PostgresCloudApiApp app) : CloudApiEndToEndTests(app), IClassFixture<PostgresCloudApiApp>;

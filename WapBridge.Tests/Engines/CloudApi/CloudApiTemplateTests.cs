using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>The gateway with its Cloud API engine on a <see cref="FakeGraph"/> (loopback), unthrottled, campaigns polled fast.</summary>
public class TemplateCloudApp(string provider) : CloudApiApp(provider, new Dictionary<string, string?>
{
    ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
    ["WapBridge:Hangfire:WorkerCount"] = "2",
    ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
});

public sealed class SqliteTemplateCloudApp() : TemplateCloudApp("sqlite");

public sealed class PostgresTemplateCloudApp() : TemplateCloudApp("postgres");

/// <summary>
/// Contract §11 end to end against the fake Graph: send_template and list_templates, the 24-hour window (free text
/// refused with <c>template_required</c>, 409 when waited, or sent as the fallback template, as ERPNext's notifications
/// are), and campaigns sending a template filled from each recipient's variables.
/// </summary>
public abstract class CloudApiTemplateTests(TemplateCloudApp app)
{
    private const string W = "wap_bridge.api.whatsapp.";
    private const string C = "wap_bridge.api.campaigns.";
    private static readonly object Spaced = new { min_delay_seconds = 0, max_delay_seconds = 0.05 };
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record CloudInstance(HttpClient Client, string InstanceId, FakeGraphNumber Number);

    private IDbContextFactory<WapBridgeDbContext> Db => app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();

    /// <summary>A new customer's Cloud API instance on its own fake Graph number, created through the API and connected.</summary>
    private async Task<CloudInstance> ConnectedAsync()
    {
        var n = Random.Shared.NextInt64(100_000_000_000_000, 999_999_999_999_999);
        var local = Random.Shared.Next(1_000_000, 9_999_999);
        var number = new FakeGraphNumber($"{n}", $"+255 75{local}", "Duka " + local, $"EAAG-token-{Guid.NewGuid():N}", $"{n + 7}");
        app.Graph.AddNumber(number);
        var customer = await app.CreateCustomerAsync();
        var created = await CloudApiTestInstances.CreateConnectedAsync(app.CreateApiClient(customer.TokenHeader), number);
        return new CloudInstance(created.Client, created.InstanceId, number);
    }

    /// <summary>The sends Graph got for the number, once at least <paramref name="count"/> arrived.</summary>
    private async Task<List<JsonObject>> SendsAsync(FakeGraphNumber number, int count, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var sends = app.Graph.Sends.Where(r => r.Path.Contains(number.PhoneNumberId, StringComparison.Ordinal)).Select(r => r.Json!).ToList();
            if (sends.Count >= count)
                return sends;
            Assert.True(DateTime.UtcNow < deadline, $"Graph got {sends.Count} of {count} sends for {number.PhoneNumberId}");
            await Task.Delay(50, Ct);
        }
    }

    private async Task OpenWindowAsync(CloudInstance cloud, string contact)
    {
        await using var db = await Db.CreateDbContextAsync(Ct);
        var id = await db.Instances.Where(i => i.Code == cloud.InstanceId).Select(i => i.Id).SingleAsync(Ct);
        await app.Services.GetRequiredService<ServiceWindowStore>().RecordInboundAsync(id, contact, DateTimeOffset.UtcNow.AddMinutes(-1), Ct);
    }

    private static string Unique(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task Send_template_goes_to_Graph_as_a_template_message_and_is_logged_as_type_template()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        var components = JsonNode.Parse("""[{"type":"body","parameters":[{"type":"text","text":"Asha"},{"type":"text","text":"A-17"}]}]""");

        // No window is open: templates go out anyway.
        var sent = (await cloud.Client.CallAsync(W + "send_template", new
        {
            instance_id = cloud.InstanceId, to_number = "0755 123 456", template = "order_update", language = "en_US", components, wait = 10,
        })).EnsureOk().Message!;
        Assert.True(sent["ok"]!.GetValue<bool>());
        Assert.Equal("sent", sent["status"]!.GetValue<string>());
        Assert.Equal("255755123456", sent["to"]!.GetValue<string>());

        var body = Assert.Single(await SendsAsync(cloud.Number, 1));
        Assert.Equal("255755123456", body["to"]!.GetValue<string>());
        Assert.Equal("template", body["type"]!.GetValue<string>());
        Assert.Equal("""{"name":"order_update","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Asha"},{"type":"text","text":"A-17"}]}]}""",
            body["template"]!.ToJsonString());

        var record = (await cloud.Client.CallAsync(W + "message_status", new { id = sent["id"]!.GetValue<string>() })).EnsureOk().Message!;
        Assert.Equal("template", record["type"]!.GetValue<string>());
        Assert.Equal("order_update", record["body"]!.GetValue<string>());
        Assert.Equal("order_update", record["template"]!["name"]!.GetValue<string>());
        Assert.Equal("en_US", record["template"]!["language"]!.GetValue<string>());
    }

    [Fact]
    public async Task Send_template_refuses_bad_arguments_naming_them_and_sends_nothing()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        async Task<ApiAnswer> SendAsync(object args) => await cloud.Client.CallAsync(W + "send_template", args);

        var name = await SendAsync(new { instance_id = cloud.InstanceId, to_number = "0755123456", template = "Order Update", language = "en" });
        Assert.Equal((417, "template"), (name.Status, name.ErrorField));
        var language = await SendAsync(new { instance_id = cloud.InstanceId, to_number = "0755123456", template = "order_update" });
        Assert.Equal((417, "language"), (language.Status, language.ErrorField));
        var badLanguage = await SendAsync(new { instance_id = cloud.InstanceId, to_number = "0755123456", template = "order_update", language = "English" });
        Assert.Equal((417, "language"), (badLanguage.Status, badLanguage.ErrorField));
        var components = await SendAsync(new { instance_id = cloud.InstanceId, to_number = "0755123456", template = "order_update", language = "en", components = new { type = "body" } });
        Assert.Equal((417, "components"), (components.Status, components.ErrorField));
        var group = await SendAsync(new { instance_id = cloud.InstanceId, to_number = "120363000000000001@g.us", template = "order_update", language = "en" });
        Assert.Equal((417, "to_number"), (group.Status, group.ErrorField));

        await Task.Delay(300, Ct);
        Assert.DoesNotContain(app.Graph.Sends, r => r.Path.Contains(cloud.Number.PhoneNumberId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_templates_answers_the_accounts_templates_with_their_variables_paged()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        var positional = Unique("aa_order");
        var named = Unique("ab_welcome");
        app.Graph.Templates.Add(FakeGraph.Template(positional, "en", "Order {{1}} for {{2}} is ready"));
        app.Graph.Templates.Add(FakeGraph.Template(named, "sw", "Karibu {{first_name}}!", status: "PENDING", category: "MARKETING"));

        var all = (await cloud.Client.CallAsync(W + "list_templates", new { instance_id = cloud.InstanceId, limit = 500 })).EnsureOk().Message!;
        var data = all["data"]!.AsArray();
        var order = data.Single(t => t!["name"]!.GetValue<string>() == positional)!;
        Assert.Equal("en", order["language"]!.GetValue<string>());
        Assert.Equal("APPROVED", order["status"]!.GetValue<string>());
        Assert.Equal("UTILITY", order["category"]!.GetValue<string>());
        Assert.Equal("Order {{1}} for {{2}} is ready", order["body"]!.GetValue<string>());
        Assert.Equal(["1", "2"], order["variables"]!.AsArray().Select(v => v!.GetValue<string>()));
        var welcome = data.Single(t => t!["name"]!.GetValue<string>() == named)!;
        Assert.Equal(("sw", "PENDING", "MARKETING"), (welcome["language"]!.GetValue<string>(), welcome["status"]!.GetValue<string>(), welcome["category"]!.GetValue<string>()));
        Assert.Equal(["first_name"], welcome["variables"]!.AsArray().Select(v => v!.GetValue<string>()));

        var page = (await cloud.Client.CallAsync(W + "list_templates", new { instance_id = cloud.InstanceId, limit = 1, offset = 1 })).EnsureOk().Message!;
        Assert.Equal(all["total"]!.GetValue<int>(), page["total"]!.GetValue<int>());
        Assert.Single(page["data"]!.AsArray());
        Assert.Equal(data[1]!["name"]!.GetValue<string>(), page["data"]![0]!["name"]!.GetValue<string>());

        var missing = await cloud.Client.CallAsync(W + "list_templates", new { });
        Assert.Equal((417, "instance_id"), (missing.Status, missing.ErrorField));
    }

    [Fact]
    public async Task Free_text_outside_the_window_fails_with_template_required_409_when_waited_and_never_reaches_Graph()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();

        var waited = await cloud.Client.CallAsync(W + "send_api_message", new { instance_id = cloud.InstanceId, to_number = "0755123456", message = "Your order shipped", wait = 10 });
        Assert.Equal(409, waited.Status);
        Assert.Equal("template_required", waited.ErrorCode);
        Assert.Equal("to_number", waited.ErrorField);
        var error = waited.Body!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("255755123456 has not written in the last 24 hours", error);
        Assert.Contains("whatsapp.send_template", error);

        // The message stays in the log, failed with the reason; without waiting it is queued, then failed the same way.
        var queued = (await cloud.Client.CallAsync(W + "send_api_message", new { instance_id = cloud.InstanceId, to_number = "0755123457", message = "Hello", wait = 0 }))
            .EnsureOk().Message!;
        Assert.Equal("queued", queued["status"]!.GetValue<string>());
        var failed = await cloud.Client.WaitForMessageAsync(queued["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() == "failed");
        Assert.Equal("template_required", failed["error_code"]!.GetValue<string>());
        var log = (await cloud.Client.CallAsync(W + "list_messages", new { instance_id = cloud.InstanceId, number = "255755123456" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal("template_required", Assert.Single(log)!["error_code"]!.GetValue<string>());

        Assert.DoesNotContain(app.Graph.Sends, r => r.Path.Contains(cloud.Number.PhoneNumberId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inside_the_window_free_text_goes_out_as_text()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        await OpenWindowAsync(cloud, "255755123456");

        var sent = (await cloud.Client.CallAsync(W + "send_api_message", new { instance_id = cloud.InstanceId, to_number = "0755123456", message = "Thanks for writing", wait = 10 }))
            .EnsureOk().Message!;
        Assert.Equal("sent", sent["status"]!.GetValue<string>());
        var body = Assert.Single(await SendsAsync(cloud.Number, 1));
        Assert.Equal("text", body["type"]!.GetValue<string>());
        Assert.Equal("Thanks for writing", body["text"]!["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_erpnext_notification_outside_the_window_arrives_as_the_fallback_template()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        await using (var db = await Db.CreateDbContextAsync(Ct))
            await db.Instances.Where(i => i.Code == cloud.InstanceId).ExecuteUpdateAsync(s => s
                .SetProperty(i => i.FallbackTemplate, "erp_notice").SetProperty(i => i.FallbackTemplateLanguage, "en_US"), Ct);

        var answer = await cloud.Client.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway",
            $"instance_id={cloud.InstanceId}&to_number=0755123456&message=" + Uri.EscapeDataString("Sales Invoice SINV-0001<br>Amount: 12,000 TZS"),
            "application/x-www-form-urlencoded");
        var id = answer.EnsureOk().Message!["service"]!["id"]!.GetValue<string>();

        var body = Assert.Single(await SendsAsync(cloud.Number, 1));
        Assert.Equal("255755123456", body["to"]!.GetValue<string>());
        Assert.Equal("template", body["type"]!.GetValue<string>());
        // ERPNext's line break cannot go in a template parameter: the text arrives as one paragraph.
        Assert.Equal("""{"name":"erp_notice","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Sales Invoice SINV-0001 Amount: 12,000 TZS"}]}]}""",
            body["template"]!.ToJsonString());

        var record = await cloud.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() == "sent");
        Assert.Equal("chat", record["type"]!.GetValue<string>());
        Assert.Equal("Sales Invoice SINV-0001\nAmount: 12,000 TZS", record["body"]!.GetValue<string>());
        Assert.Equal("erp_notice", record["template"]!["name"]!.GetValue<string>());
        Assert.True(record["template"]!["fallback"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_template_campaign_sends_each_recipient_the_template_filled_with_their_variables()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        var name = Unique("promo");
        app.Graph.Templates.Add(FakeGraph.Template(name, "en", "Hi {{first_name}}, your code is {{code}}", category: "MARKETING"));

        var created = (await cloud.Client.CallAsync(C + "create_and_start_campaign", new
        {
            instance_id = cloud.InstanceId, template = name, language = "en", throttle = Spaced,
            recipients = new object[]
            {
                new { phone_number = "0755000101", first_name = "Asha", code = "K-1" },
                new { phone_number = "0755000102", First_Name = "Juma", code = 42 },
            },
        })).EnsureOk().Message!;
        var campaign = created["campaign"]!.GetValue<string>();
        Assert.Equal(2, created["total"]!.GetValue<int>());

        var sends = (await SendsAsync(cloud.Number, 2)).OrderBy(b => b["to"]!.GetValue<string>()).ToList();
        Assert.Equal(["255755000101", "255755000102"], sends.Select(b => b["to"]!.GetValue<string>()));
        Assert.All(sends, b => Assert.Equal("template", b["type"]!.GetValue<string>()));
        Assert.Equal($$"""{"name":"{{name}}","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Asha"},{"type":"text","parameter_name":"code","text":"K-1"}]}]}""",
            sends[0]["template"]!.ToJsonString());
        Assert.Equal($$"""{"name":"{{name}}","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Juma"},{"type":"text","parameter_name":"code","text":"42"}]}]}""",
            sends[1]["template"]!.ToJsonString());

        var status = (await cloud.Client.CallAsync(C + "campaign_status", new { campaign })).EnsureOk().Message!;
        Assert.Equal((name, "en"), (status["template"]!.GetValue<string>(), status["language"]!.GetValue<string>()));
        var listed = (await cloud.Client.CallAsync(C + "list_campaigns", new { })).EnsureOk().Message!["data"]!.AsArray().Single(c => c!["campaign"]!.GetValue<string>() == campaign)!;
        Assert.Equal(name, listed["template"]!.GetValue<string>());

        // Each row shows what the contact reads.
        var messages = (await cloud.Client.CallAsync(W + "list_messages", new { campaign })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Contains(messages, m => m!["type"]!.GetValue<string>() == "template" && m["body"]!.GetValue<string>() == "Hi Asha, your code is K-1");
    }

    [Fact]
    public async Task A_positional_template_campaign_takes_each_recipients_values_in_order()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        var name = Unique("order");
        app.Graph.Templates.Add(FakeGraph.Template(name, "sw", "Oda {{1}} ya {{2}} iko tayari"));

        (await cloud.Client.CallAsync(C + "create_and_start_campaign", new
        {
            instance_id = cloud.InstanceId, template = name, language = "sw", throttle = Spaced,
            recipients = new object[] { new { phone_number = "0755000201", order = "A-1", name = "Asha" }, new JsonObject { ["phone_number"] = "0755000202", ["2"] = "Juma", ["1"] = "B-2" } },
        })).EnsureOk();

        var sends = (await SendsAsync(cloud.Number, 2)).OrderBy(b => b["to"]!.GetValue<string>()).ToList();
        Assert.Equal("""[{"type":"body","parameters":[{"type":"text","text":"A-1"},{"type":"text","text":"Asha"}]}]""", sends[0]["template"]!["components"]!.ToJsonString());
        Assert.Equal("""[{"type":"body","parameters":[{"type":"text","text":"B-2"},{"type":"text","text":"Juma"}]}]""", sends[1]["template"]!["components"]!.ToJsonString());
    }

    [Fact]
    public async Task A_template_campaign_is_checked_against_the_account_before_anything_is_stored()
    {
        app.SkipIfUnavailable();
        var cloud = await ConnectedAsync();
        var approved = Unique("notice");
        var pending = Unique("pending");
        app.Graph.Templates.Add(FakeGraph.Template(approved, "en", "Dear {{name}}, {{note}}"));
        app.Graph.Templates.Add(FakeGraph.Template(pending, "en", "Hello", status: "PENDING"));
        Task<ApiAnswer> CreateAsync(object args) => cloud.Client.CallAsync(C + "create_and_start_campaign", args);

        var unknown = await CreateAsync(new { instance_id = cloud.InstanceId, template = approved, language = "fr", recipients = new[] { "0755000301" }, throttle = Spaced });
        Assert.Equal((417, "template", "unknown_template"), (unknown.Status, unknown.ErrorField, unknown.ErrorCode));
        Assert.Contains($"{approved} (en)", unknown.Body!["error"]!["message"]!.GetValue<string>());

        var notApproved = await CreateAsync(new { instance_id = cloud.InstanceId, template = pending, language = "en", recipients = new[] { "0755000301" }, throttle = Spaced });
        Assert.Equal((417, "template", "template_not_approved"), (notApproved.Status, notApproved.ErrorField, notApproved.ErrorCode));

        var lacking = await CreateAsync(new
        {
            instance_id = cloud.InstanceId, template = approved, language = "en", throttle = Spaced,
            recipients = new object[] { new { phone_number = "0755000301", name = "Asha", note = "paid" }, new { phone_number = "0755000302", name = "Juma" } },
        });
        Assert.Equal((417, "recipients", "missing_variable"), (lacking.Status, lacking.ErrorField, lacking.ErrorCode));
        Assert.Contains("recipients[1]", lacking.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Contains("note", lacking.Body!["error"]!["message"]!.GetValue<string>());

        var both = await CreateAsync(new { instance_id = cloud.InstanceId, template = approved, language = "en", message = "Hi", recipients = new[] { "0755000301" }, throttle = Spaced });
        Assert.Equal((417, "message"), (both.Status, both.ErrorField));

        var campaigns = (await cloud.Client.CallAsync(C + "list_campaigns", new { })).EnsureOk().Message!;
        Assert.Equal(0, campaigns["total"]!.GetValue<int>());

        // Recipients added later are held to the same variables.
        var created = (await CreateAsync(new
        {
            instance_id = cloud.InstanceId, template = approved, language = "en", throttle = Spaced, scheduled_at = DateTimeOffset.UtcNow.AddDays(1),
            recipients = new object[] { new { phone_number = "0755000301", name = "Asha", note = "paid" } },
        })).EnsureOk().Message!;
        var added = await cloud.Client.CallAsync(C + "add_campaign_recipients", new
        {
            campaign = created["campaign"]!.GetValue<string>(), recipients = new object[] { new { phone_number = "0755000303", note = "due" } },
        });
        Assert.Equal((417, "recipients"), (added.Status, added.ErrorField));
    }
}

public sealed class SqliteCloudApiTemplateTests(SqliteTemplateCloudApp app) : CloudApiTemplateTests(app), IClassFixture<SqliteTemplateCloudApp>;

public sealed class PostgresCloudApiTemplateTests(PostgresTemplateCloudApp app) : CloudApiTemplateTests(app), IClassFixture<PostgresTemplateCloudApp>;

using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Erpnext;

/// <summary>Replays of what Frappe's sms_settings.py puts on the wire, one request per receiver.</summary>
public abstract class ErpnextGatewayTests(WapBridgeApp app)
{
    private const string Gateway = "/api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway";
    private static readonly Dictionary<string, string> ErpnextHeaders = new() { ["Accept"] = "text/plain, text/html, */*", ["User-Agent"] = "python-requests/2.32.3" };

    private static Dictionary<string, string> Headers(SendingCustomer sender, params (string, string)[] extra)
    {
        var headers = new Dictionary<string, string>(ErpnextHeaders) { ["Authorization"] = sender.Customer.TokenHeader };
        foreach (var (k, v) in extra) headers[k] = v;
        return headers;
    }

    private static async Task<JsonNode> StoredAsync(SendingCustomer sender, string id) =>
        (await sender.Client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id })).EnsureOk().Message!;

    [Fact]
    public async Task Form_post_answers_queued_at_once_and_stores_an_erpnext_message()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var body = $"message=Sales+Invoice+SINV-0001+is+due&instance_id={sender.InstanceId}&to_number=%2B255755123456";

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Gateway, body, "application/x-www-form-urlencoded", Headers(sender));

        Assert.Equal(200, answer.Status);
        Assert.Equal("application/json", answer.Response.Content.Headers.ContentType!.MediaType);
        var m = answer.Message!;
        Assert.True(m["ok"]!.GetValue<bool>());
        Assert.Equal("queued", m["status"]!.GetValue<string>());
        Assert.True(m["service"]!["ok"]!.GetValue<bool>());
        var id = m["service"]!["id"]!.GetValue<string>();
        Assert.StartsWith("true_255755123456@c.us_", id);
        var stored = await StoredAsync(sender, id);
        Assert.Equal("erpnext", stored["source"]!.GetValue<string>());
        Assert.Equal("Sales Invoice SINV-0001 is due", stored["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task Json_post_with_ascii_escaped_emoji_keeps_the_emoji()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var body = $$"""{"message": "Karibu \ud83d\ude00 asante", "instance_id": "{{sender.InstanceId}}", "to_number": "0755123456"}""";

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Gateway, body, "application/json", Headers(sender));

        answer.EnsureOk();
        var stored = await StoredAsync(sender, answer.Message!["service"]!["id"]!.GetValue<string>());
        Assert.Equal("Karibu 😀 asante", stored["body"]!.GetValue<string>());
        Assert.Equal("255755123456", stored["to"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_with_a_query_string_uses_the_default_instance()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var second = (await sender.Client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk();
        (await sender.Client.CallAsync("wap_bridge.api.instances.set_default_instance", new { instance_id = sender.InstanceId })).EnsureOk();

        var answer = await sender.Client.SendRawAsync(HttpMethod.Get, Gateway + "?message=Hello+there&to_number=255.755.123.456", headers: Headers(sender));

        answer.EnsureOk();
        var stored = await StoredAsync(sender, answer.Message!["service"]!["id"]!.GetValue<string>());
        Assert.Equal(sender.InstanceId, stored["instance_id"]!.GetValue<string>());
        Assert.NotEqual(second.Message!["instance_id"]!.GetValue<string>(), stored["instance_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Two_factor_otp_variant_with_authorization_in_the_body_too()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var body = $"Authorization={Uri.EscapeDataString(sender.Customer.TokenHeader)}&instance_id={sender.InstanceId}&message=Your+verification+code+is+482913&to_number=0755123456";

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Gateway, body, "application/x-www-form-urlencoded", Headers(sender));

        answer.EnsureOk();
        Assert.Equal("Your verification code is 482913",
            (await StoredAsync(sender, answer.Message!["service"]!["id"]!.GetValue<string>()))["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task Three_receivers_with_a_bad_one_in_the_middle_all_answer_200()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var answers = new List<ApiAnswer>();
        foreach (var receiver in new[] { "+255755000111", "07551", "255755000333" })
            answers.Add(await sender.Client.SendRawAsync(HttpMethod.Post, Gateway,
                $"message=Stock+low&instance_id={sender.InstanceId}&to_number={Uri.EscapeDataString(receiver)}", "application/x-www-form-urlencoded", Headers(sender)));

        Assert.All(answers, a => Assert.Equal(200, a.Status));
        Assert.True(answers[0].Message!["ok"]!.GetValue<bool>());
        Assert.False(answers[1].Message!["ok"]!.GetValue<bool>());
        Assert.False(answers[1].Message!["service"]!["ok"]!.GetValue<bool>());
        Assert.Contains("to_number", answers[1].Message!["service"]!["error"]!.GetValue<string>());
        Assert.True(answers[2].Message!["ok"]!.GetValue<bool>());

        var log = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages")).EnsureOk().Message!;
        Assert.Equal(3, log["total"]!.GetValue<int>());
        var failed = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { status = "failed" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal("07551", Assert.Single(failed)!["to"]!.GetValue<string>());
        Assert.Equal("erpnext", failed[0]!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_receiver_a_digit_short_answers_200_not_ok_with_the_reason()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Gateway,
            $"message=Stock+low&instance_id={sender.InstanceId}&to_number=075520010", "application/x-www-form-urlencoded", Headers(sender));

        Assert.Equal(200, answer.Status);
        Assert.False(answer.Message!["ok"]!.GetValue<bool>());
        Assert.Contains("too short for Tanzania (+255)", answer.Message!["service"]!["error"]!.GetValue<string>());
        var failed = Assert.Single((await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { status = "failed" })).EnsureOk().Message!["data"]!.AsArray())!;
        Assert.Contains("too short for Tanzania", failed["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Html_is_turned_into_whatsapp_text()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var html = "<p>Dear <b>Asha</b>,</p><p>Invoice &amp; receipt attached.<br>Total: TZS&nbsp;15,000</p>";
        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Gateway,
            $"message={Uri.EscapeDataString(html)}&instance_id={sender.InstanceId}&to_number=0755123456", "application/x-www-form-urlencoded", Headers(sender));

        answer.EnsureOk();
        Assert.Equal("Dear Asha,\nInvoice & receipt attached.\nTotal: TZS 15,000",
            (await StoredAsync(sender, answer.Message!["service"]!["id"]!.GetValue<string>()))["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task Configuration_mistakes_stay_loud()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var wrongKey = new Dictionary<string, string>(ErpnextHeaders) { ["Authorization"] = $"token {sender.Customer.ApiKey}:{new string('0', 40)}" };
        Assert.Equal(401, (await sender.Client.SendRawAsync(HttpMethod.Post, Gateway, "message=x&to_number=255755123456", "application/x-www-form-urlencoded", wrongKey)).Status);
        var unknown = await sender.Client.SendRawAsync(HttpMethod.Post, Gateway, "message=x&instance_id=INST-01-9999999&to_number=255755123456",
            "application/x-www-form-urlencoded", Headers(sender));
        Assert.Equal(404, unknown.Status);
        Assert.Equal("DoesNotExistError", unknown.ExcType);
    }
}

public sealed class SqliteErpnextGatewayTests(SqliteMessagingApp app) : ErpnextGatewayTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresErpnextGatewayTests(PostgresMessagingApp app) : ErpnextGatewayTests(app), IClassFixture<PostgresMessagingApp>;

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>
/// Issue 13 item 12: inputs that used to answer 500. Each answers the contract's error body (or the success the
/// contract names), on both databases.
/// </summary>
public abstract class BadInputTests(WapBridgeApp app)
{
    private const string Api = "/api/method/wap_bridge.api.";

    /// <summary>The contract §1 error body: Frappe's keys and our structured detail.</summary>
    internal static void AssertErrorBody(ApiAnswer answer, int status, string? field = null)
    {
        Assert.True(answer.Status == status, $"expected {status}, got {answer.Status}: {answer.Body?.ToJsonString()}");
        Assert.NotNull(answer.ExcType);
        Assert.StartsWith("wap_bridge.exceptions.", answer.Body!["exception"]!.GetValue<string>());
        Assert.NotNull(JsonNode.Parse(answer.Body!["_server_messages"]!.GetValue<string>())!.AsArray());
        Assert.NotNull(answer.ErrorCode);
        if (field is not null)
            Assert.Equal(field, answer.ErrorField);
    }

    private async Task<(SendingCustomer Sender, string Campaign)> CampaignAsync(int recipients = 2)
    {
        var sender = await app.CreateConnectedAsync();
        var numbers = Enumerable.Range(0, recipients).Select(i => $"25575{i:0000000}").ToArray();
        var campaign = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Hi", recipients = numbers,
            throttle = new { min_delay_seconds = 3600, max_delay_seconds = 3600 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        return (sender, campaign);
    }

    [Fact]
    public async Task A_string_argument_sent_as_a_list_is_417_naming_it()
    {
        app.SkipIfUnavailable();
        var (sender, campaign) = await CampaignAsync();

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Api + "campaigns.campaign_status", $$"""{"campaign":["{{campaign}}"]}""", "application/json");

        AssertErrorBody(answer, 417, "campaign");
        Assert.Equal("invalid_type", answer.ErrorCode);
    }

    [Fact]
    public async Task Duplicate_json_keys_take_the_last_value()
    {
        app.SkipIfUnavailable();
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);

        var answer = await admin.SendRawAsync(HttpMethod.Post, Api + "admin.create_customer",
            $$"""{"name":"First","email":"{{Guid.NewGuid():N}}@example.com","name":"Second"}""", "application/json");

        answer.EnsureOk();
        Assert.Equal("Second", answer.Message!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Duplicate_keys_inside_an_object_argument_take_the_last_value()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Api + "campaigns.create_and_start_campaign",
            $$$"""{"instance_id":"{{{sender.InstanceId}}}","message":"Hi","recipients":["255757111111"],"throttle":{"min_delay_seconds":1,"max_delay_seconds":2,"min_delay_seconds":3}}""",
            "application/json");

        AssertErrorBody(answer, 417, "throttle.max_delay_seconds");
    }

    [Theory]
    [InlineData("instances.list_instances", """{"limit":[null]}""", "limit")]
    [InlineData("instances.list_instances", """{"limit":[5]}""", "limit")]
    [InlineData("instances.list_instances", """{"offset":1e400}""", "offset")]
    [InlineData("settings.set_webhook", """{"url":"http://127.0.0.1:9/hook","events":[null]}""", "events[0]")]
    [InlineData("settings.set_webhook", """{"url":"http://127.0.0.1:9/hook","events":[["message"]]}""", "events[0]")]
    [InlineData("settings.set_webhook", """{"url":{"a":1}}""", "url")]
    [InlineData("whatsapp.list_messages", """{"since":"not a date"}""", "since")]
    [InlineData("whatsapp.list_messages", """{"since":12}""", "since")]
    [InlineData("whatsapp.send_api_message", """{"to_number":"255755123456","message":"x","wait":true}""", "wait")]
    [InlineData("whatsapp.send_api_message", """{"to_number":"255755123456","message":"x","media_data":17}""", "media_data")]
    public async Task Arguments_of_the_wrong_json_kind_are_417_naming_them(string method, string body, string field)
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Api + method, body, "application/json");

        AssertErrorBody(answer, 417, field);
    }

    [Fact]
    public async Task A_lone_surrogate_is_417_with_or_without_an_idempotency_key()
    {
        app.SkipIfUnavailable();
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        var body = $$"""{"name":"Bad \ud800 name","email":"{{Guid.NewGuid():N}}@example.com"}""";

        var plain = await admin.SendRawAsync(HttpMethod.Post, Api + "admin.create_customer", body, "application/json");
        var keyed = await admin.SendRawAsync(HttpMethod.Post, Api + "admin.create_customer", body, "application/json",
            new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString("N") });

        AssertErrorBody(plain, 417, "name");
        Assert.Equal("invalid_text", plain.ErrorCode);
        AssertErrorBody(keyed, 417, "name");
    }

    [Fact]
    public async Task A_lone_surrogate_inside_an_object_argument_is_417_naming_its_path()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Api + "campaigns.create_and_start_campaign",
            $$$"""{"instance_id":"{{{sender.InstanceId}}}","message":"Hi {{name}}","recipients":[{"phone_number":"255757111111","name":"\udc00"}]}""",
            "application/json", new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString("N") });

        AssertErrorBody(answer, 417, "recipients[0].name");
    }

    [Fact]
    public async Task A_truncated_multipart_body_is_417()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var body = "--XyZ\r\nContent-Disposition: form-data; name=\"to_number\"\r\n\r\n255755123456\r\n--XyZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nHello, this part never ends";
        var request = new HttpRequestMessage(HttpMethod.Post, Api + "whatsapp.send_api_message") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=XyZ");

        var answer = await sender.Client.SendForAnswerAsync(request);

        AssertErrorBody(answer, 417, "body");
        Assert.Equal("unreadable_body", answer.ErrorCode);
    }

    [Theory]
    [InlineData("\"NaN\"", "min_delay_seconds")]
    [InlineData("\"Infinity\"", "max_delay_seconds")]
    [InlineData("\"-Infinity\"", "min_delay_seconds")]
    [InlineData("1e308", "max_delay_seconds")]
    [InlineData("1e400", "min_delay_seconds")]
    [InlineData("1e308", "hourly_limit")]
    [InlineData("\"NaN\"", "daily_limit")]
    public async Task Throttle_numbers_that_are_not_finite_or_absurd_are_417_naming_them(string value, string name)
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Api + "campaigns.create_and_start_campaign",
            $$$"""{"instance_id":"{{{sender.InstanceId}}}","message":"Hi","recipients":["255757111111"],"throttle":{"{{{name}}}":{{{value}}}}}""", "application/json");

        AssertErrorBody(answer, 417, "throttle." + name);
    }

    [Fact]
    public async Task Adding_recipients_while_the_instance_is_deleted_never_answers_500()
    {
        app.SkipIfUnavailable();
        for (var round = 0; round < 10; round++)
        {
            var (sender, campaign) = await CampaignAsync();
            var recipients = Enumerable.Range(0, 3000).Select(i => $"25576{i:0000000}").ToArray();
            var add = sender.Client.CallAsync("wap_bridge.api.campaigns.add_campaign_recipients", new { campaign, recipients });
            await Task.Delay(round * 10);
            var delete = sender.Client.CallAsync("wap_bridge.api.instances.delete_instance", new { instance_id = sender.InstanceId });
            var (added, deleted) = (await add, await delete);
            deleted.EnsureOk();
            Assert.True(added.Status is 200 or 404, $"expected 200 or 404, got {added.Status}: {added.Body?.ToJsonString()}");
            if (added.Status == 404)
                AssertErrorBody(added, 404, "campaign");
        }
    }

    [Fact]
    public async Task Restarting_an_instance_while_it_is_deleted_never_answers_500()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        for (var round = 0; round < 10; round++)
        {
            var instance = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
            var restart = client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = instance });
            var again = client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = instance });
            var delete = client.CallAsync("wap_bridge.api.instances.delete_instance", new { instance_id = instance });
            foreach (var answer in await Task.WhenAll(restart, again, delete))
            {
                Assert.True(answer.Status is 200 or 404, $"expected 200 or 404, got {answer.Status}: {answer.Body?.ToJsonString()}");
                if (answer.Status == 404)
                    AssertErrorBody(answer, 404, "instance_id");
            }
            BadInputTests.AssertErrorBody(await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = instance }), 404, "instance_id");
        }
    }

    [Fact]
    public async Task Listing_instances_while_they_are_deleted_never_answers_500()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        // Six rounds of eleven calls: within the API key's rate limit burst (100).
        for (var round = 0; round < 6; round++)
        {
            var instances = new List<string>();
            for (var i = 0; i < 4; i++)
                instances.Add((await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>());
            var lists = Enumerable.Range(0, 3).Select(_ => client.CallAsync("wap_bridge.api.instances.list_instances", new { limit = 50 })).ToList();
            var deletes = instances.Select(id => client.CallAsync("wap_bridge.api.instances.delete_instance", new { instance_id = id })).ToList();
            foreach (var deleted in await Task.WhenAll(deletes))
                deleted.EnsureOk();
            foreach (var listed in await Task.WhenAll(lists))
            {
                var data = listed.EnsureOk().Message!["data"]!.AsArray();
                Assert.All(data, item => Assert.NotNull(item!["health"]));
            }
        }
        var after = (await client.CallAsync("wap_bridge.api.instances.list_instances", new { limit = 50 })).EnsureOk().Message!;
        Assert.Empty(after["data"]!.AsArray());
        Assert.Equal(0, after["total"]!.GetValue<int>());
    }
}

public sealed class SqliteBadInputTests(SqliteMessagingApp app) : BadInputTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresBadInputTests(PostgresMessagingApp app) : BadInputTests(app), IClassFixture<PostgresMessagingApp>;

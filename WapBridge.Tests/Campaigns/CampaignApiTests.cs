using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

public sealed class SqliteCampaignApp() : WapBridgeApp("sqlite", FastMessaging.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
    ["WapBridge:Hangfire:WorkerCount"] = "2",
    ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
}));

public sealed class CampaignApiTests(SqliteCampaignApp app) : IClassFixture<SqliteCampaignApp>
{
    private const string P = "wap_bridge.api.campaigns.";
    private static readonly object NoSpacing = new { min_delay_seconds = 0, max_delay_seconds = 0 };

    private static async Task<JsonNode> StatusAsync(HttpClient client, string campaign) =>
        (await client.CallAsync(P + "campaign_status", new { campaign })).EnsureOk().Message!;

    private static async Task<JsonNode> WaitForAsync(HttpClient client, string campaign, Func<JsonNode, bool> done, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var status = await StatusAsync(client, campaign);
            if (done(status)) return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"campaign never got there: {status.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Seed_examples_work_as_printed()
    {
        var sender = await app.CreateConnectedAsync();
        var create = (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + P + "create_and_start_campaign",
            $$"""{"instance_id":"{{sender.InstanceId}}","campaign_name":"Promo Batch A","message":"Hello from WapBridge","recipients":["255757111111","255757222222"]}""",
            "application/json")).EnsureOk().Message!;
        Assert.True(create["ok"]!.GetValue<bool>());
        var campaign = create["campaign"]!.GetValue<string>();
        Assert.Matches(@"^WAP-CAM-\d{4,}$", campaign);
        Assert.Equal("running", create["status"]!.GetValue<string>());
        Assert.Equal(2, create["total"]!.GetValue<int>());

        var added = (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + P + "add_campaign_recipients",
            $$"""{"campaign":"{{campaign}}","recipients":[{"phone_number":"255757333333"},{"to_number":"255757444444"}]}""", "application/json")).EnsureOk().Message!;
        Assert.Equal(2, added["added"]!.GetValue<int>());
        Assert.Equal(4, added["total"]!.GetValue<int>());

        var status = (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + P + "campaign_status", $$"""{"campaign":"{{campaign}}"}""", "application/json")).EnsureOk().Message!;
        Assert.Equal("Promo Batch A", status["campaign_name"]!.GetValue<string>());
        Assert.Equal(sender.InstanceId, status["instance_id"]!.GetValue<string>());
        foreach (var key in new[] { "total", "pending", "sent", "delivered", "read", "failed", "invalid", "duplicates", "progress", "created_at", "started_at", "completed_at", "paused_reason", "next_send_at", "eta_seconds" })
            Assert.True(status.AsObject().ContainsKey(key), $"campaign_status lacks {key}");

        var paused = (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + P + "pause_campaign", $$"""{"campaign":"{{campaign}}"}""", "application/json")).EnsureOk().Message!;
        Assert.Equal("paused", paused["status"]!.GetValue<string>());
        (await sender.Client.CallAsync(P + "pause_campaign", new { campaign })).EnsureOk();
        var resumed = (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + P + "resume_campaign", $$"""{"campaign":"{{campaign}}"}""", "application/json")).EnsureOk().Message!;
        Assert.Equal("running", resumed["status"]!.GetValue<string>());
        (await sender.Client.CallAsync(P + "resume_campaign", new { campaign })).EnsureOk();
    }

    [Fact]
    public async Task Impossible_numbers_are_invalid_recipients_with_the_reason()
    {
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var create = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Hello", recipients = new[] { "075520010", "0755200100", "+254 12" }, throttle = NoSpacing,
        })).EnsureOk().Message!;

        Assert.Equal(1, create["total"]!.GetValue<int>());
        var invalid = create["invalid"]!.AsArray().ToDictionary(i => i!["input"]!.GetValue<string>(), i => i!["error"]!.GetValue<string>());
        Assert.Contains("too short for Tanzania (+255)", invalid["075520010"]);
        Assert.Contains("too short for Kenya (+254)", invalid["+254 12"]);
        var recipients = (await sender.Client.CallAsync(P + "campaign_recipients", new { campaign = create["campaign"]!.GetValue<string>(), state = "invalid" }))
            .EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal(2, recipients.Count);
        Assert.Contains(recipients, r => r!["error"]!.GetValue<string>().Contains("too short for Tanzania (+255)"));
    }

    [Fact]
    public async Task A_campaign_runs_to_completion_with_variables_invalid_and_duplicate_rows_reported()
    {
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var create = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId,
            message = "Habari {{name}}, your code is {{code}}",
            recipients = new object[]
            {
                new { phone_number = "255757111111", name = "Asha", code = "A1" },
                new { phone_number = "0757 222222", name = "Baraka", code = "B2" },
                new { phone_number = "+255757111111", name = "Asha again", code = "A1" },
                new { phone_number = "12345", name = "Nobody" },
                new { phone_number = "255757333333", name = "Chausiku" },
            },
            throttle = NoSpacing,
        })).EnsureOk().Message!;
        Assert.Equal(3, create["total"]!.GetValue<int>());
        Assert.Equal(1, create["duplicates"]!.GetValue<int>());
        var invalid = Assert.Single(create["invalid"]!.AsArray())!;
        Assert.Equal("12345", invalid["input"]!.GetValue<string>());
        var campaign = create["campaign"]!.GetValue<string>();

        var done = await WaitForAsync(sender.Client, campaign, s => s["status"]!.GetValue<string>() == "completed");
        Assert.Equal(2, done["sent"]!.GetValue<int>());
        Assert.Equal(1, done["failed"]!.GetValue<int>());
        Assert.Equal(0, done["pending"]!.GetValue<int>());
        Assert.Equal(100, done["progress"]!.GetValue<double>());

        var recipients = (await sender.Client.CallAsync(P + "campaign_recipients", new { campaign, limit = 10 })).EnsureOk().Message!["data"]!.AsArray();
        var failed = recipients.Single(r => r!["state"]!.GetValue<string>() == "failed")!;
        Assert.Contains("code", failed["error"]!.GetValue<string>());
        var messages = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { direction = "outbound" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Contains(messages, m => m!["body"]!.GetValue<string>() == "Habari Baraka, your code is B2" && m["to"]!.GetValue<string>() == "255757222222");
        Assert.All(messages, m => Assert.DoesNotContain("{{", m!["body"]!.GetValue<string>()));
        Assert.All(messages, m => Assert.Equal("campaign", m!["source"]!.GetValue<string>()));

        await WaitForAsync(sender.Client, campaign, s => s["read"]!.GetValue<int>() == 2);
    }

    [Fact]
    public async Task Pause_takes_effect_before_the_next_recipient_and_resume_continues()
    {
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId,
            message = "slow and steady",
            recipients = Enumerable.Range(0, 4).Select(i => $"25575700000{i}").ToArray(),
            throttle = new { min_delay_seconds = 1, max_delay_seconds = 1 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        await WaitForAsync(sender.Client, campaign, s => s["sent"]!.GetValue<int>() >= 1);
        (await sender.Client.CallAsync(P + "pause_campaign", new { campaign })).EnsureOk();
        var atPause = (await StatusAsync(sender.Client, campaign))["sent"]!.GetValue<int>();
        await Task.Delay(2500, TestContext.Current.CancellationToken);
        var paused = await StatusAsync(sender.Client, campaign);
        Assert.Equal("paused", paused["status"]!.GetValue<string>());
        Assert.InRange(paused["sent"]!.GetValue<int>(), atPause, atPause + 1);

        (await sender.Client.CallAsync(P + "resume_campaign", new { campaign })).EnsureOk();
        var done = await WaitForAsync(sender.Client, campaign, s => s["status"]!.GetValue<string>() == "completed");
        Assert.Equal(4, done["sent"]!.GetValue<int>());
    }

    [Fact]
    public async Task Opted_out_numbers_are_skipped()
    {
        var sender = await app.CreateConnectedAsync();
        (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255757999001", message = "STOP" })).EnsureOk();
        var create = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Promo", recipients = new[] { "255757999001", "255757999002" }, throttle = NoSpacing,
        })).EnsureOk().Message!;
        var campaign = create["campaign"]!.GetValue<string>();

        var done = await WaitForAsync(sender.Client, campaign, s => s["status"]!.GetValue<string>() == "completed");
        Assert.Equal(1, done["sent"]!.GetValue<int>());
        Assert.Equal(1, done["skipped"]!.GetValue<int>());
        var skipped = (await sender.Client.CallAsync(P + "campaign_recipients", new { campaign, state = "skipped" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal("255757999001", Assert.Single(skipped)!["number"]!.GetValue<string>());
    }

    [Fact]
    public async Task Hourly_cap_makes_the_campaign_wait_and_say_why()
    {
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "capped", recipients = new[] { "255757888001", "255757888002", "255757888003" },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0, hourly_limit = 2 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        var waiting = await WaitForAsync(sender.Client, campaign, s => s["paused_reason"]?.GetValue<string>()?.Contains("hourly limit") == true);
        Assert.Equal("running", waiting["status"]!.GetValue<string>());
        Assert.Equal(2, waiting["sent"]!.GetValue<int>());
        Assert.Equal(1, waiting["pending"]!.GetValue<int>());
        Assert.True(waiting["next_send_at"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(55));
    }

    [Fact]
    public async Task A_logged_out_instance_pauses_its_campaign_with_the_reason()
    {
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "x", recipients = new[] { "255757777001", "255757777002" },
            throttle = new { min_delay_seconds = 30, max_delay_seconds = 30 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        await WaitForAsync(sender.Client, campaign, s => s["sent"]!.GetValue<int>() == 1);

        (await sender.Client.CallAsync("wap_bridge.api.instances.logout_instance", new { instance_id = sender.InstanceId })).EnsureOk();

        var paused = await WaitForAsync(sender.Client, campaign, s => s["status"]!.GetValue<string>() == "paused");
        Assert.Contains("logged out", paused["paused_reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"message":"x","recipients":["255757111111"]}""", "instance_id")]
    [InlineData("""{"instance_id":"{0}","recipients":["255757111111"]}""", "message")]
    [InlineData("""{"instance_id":"{0}","message":"x"}""", "recipients")]
    [InlineData("""{"instance_id":"{0}","message":"x","recipients":[]}""", "recipients")]
    [InlineData("""{"instance_id":"{0}","message":"x","recipients":["255757111111"],"throttle":{"min_delay_seconds":5,"max_delay_seconds":1}}""", "throttle.max_delay_seconds")]
    [InlineData("""{"instance_id":"{0}","message":"x","recipients":["255757111111"],"throttle":{"active_hours":{"start":"8am","end":"20:00"}}}""", "throttle.active_hours.start")]
    [InlineData("""{"instance_id":"{0}","message":"x","recipients":["255757111111"],"throttle":{"active_hours":{"start":"08:00","end":"20:00","timezone":"Mars/Olympus"}}}""", "throttle.active_hours.timezone")]
    public async Task Bad_campaigns_are_refused_naming_the_field(string template, string field)
    {
        var sender = await app.CreateConnectedAsync();
        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + P + "create_and_start_campaign",
            template.Replace("{0}", sender.InstanceId), "application/json");
        Assert.Equal(417, answer.Status);
        Assert.Equal(field, answer.ErrorField);
        Assert.Equal(0, (await sender.Client.CallAsync(P + "list_campaigns")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Another_customers_campaign_does_not_exist()
    {
        var owner = await app.CreateConnectedAsync();
        var campaign = (await owner.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = owner.InstanceId, message = "mine", recipients = new[] { "255757666001" }, throttle = NoSpacing,
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        var stranger = await app.CreateConnectedAsync();

        foreach (var method in new[] { "campaign_status", "pause_campaign", "resume_campaign", "cancel_campaign", "campaign_recipients" })
            Assert.Equal(404, (await stranger.Client.CallAsync(P + method, new { campaign })).Status);
        Assert.Equal(404, (await stranger.Client.CallAsync(P + "add_campaign_recipients", new { campaign, recipients = new[] { "255757666002" } })).Status);
        Assert.Equal(404, (await stranger.Client.CallAsync(P + "create_and_start_campaign",
            new { instance_id = owner.InstanceId, message = "hijack", recipients = new[] { "255757666003" } })).Status);
    }

    [Fact]
    public async Task Cancel_stops_for_good()
    {
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "x", recipients = new[] { "255757555001", "255757555002", "255757555003" },
            throttle = new { min_delay_seconds = 30, max_delay_seconds = 30 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        await WaitForAsync(sender.Client, campaign, s => s["sent"]!.GetValue<int>() == 1);

        var cancelled = (await sender.Client.CallAsync(P + "cancel_campaign", new { campaign })).EnsureOk().Message!;
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        Assert.Equal(409, (await sender.Client.CallAsync(P + "add_campaign_recipients", new { campaign, recipients = new[] { "255757555004" } })).Status);
        Assert.Equal("cancelled", (await sender.Client.CallAsync(P + "resume_campaign", new { campaign })).EnsureOk().Message!["status"]!.GetValue<string>());
    }
}

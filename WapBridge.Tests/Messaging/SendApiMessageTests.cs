using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

public abstract class SendApiMessageTests(WapBridgeApp app)
{
    private const string Send = "/api/method/wap_bridge.api.whatsapp.send_api_message";

    // A real 1x1 JPEG, so that the MIME check sees JPEG bytes.
    private const string TinyJpeg = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=";
    private const string TinyPdf = "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9G";

    [Fact]
    public async Task Seed_text_example_works_as_printed()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Send,
            $$"""{"from_number":"+{{sender.Phone}}","to_number":"+255755123456","message":"Hello from WapBridge"}""", "application/json");

        answer.EnsureOk();
        var m = answer.Message!;
        Assert.True(m["ok"]!.GetValue<bool>());
        Assert.Equal("sent", m["status"]!.GetValue<string>());
        Assert.Equal(sender.InstanceId, m["instance_id"]!.GetValue<string>());
        Assert.Equal("255755123456", m["to"]!.GetValue<string>());
        var id = m["id"]!.GetValue<string>();
        Assert.Matches("^true_255755123456@c.us_3EB0[0-9A-F]{16}$", id);
        Assert.True(m["service"]!["ok"]!.GetValue<bool>());
        Assert.Equal(id, m["service"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Seed_media_example_works_as_printed()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Send,
            $$"""{"from_number":"+{{sender.Phone}}","to_number":"+255755123456","caption":"Invoice attached","media_data":"{{TinyPdf}}","mime_type":"application/pdf","filename":"invoice.pdf"}""",
            "application/json");

        answer.EnsureOk();
        var record = await sender.Client.WaitForMessageAsync(answer.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal("document", record["type"]!.GetValue<string>());
        Assert.Equal("Invoice attached", record["caption"]!.GetValue<string>());
        Assert.Equal("invoice.pdf", record["filename"]!.GetValue<string>());
        Assert.Equal("application/pdf", record["mime_type"]!.GetValue<string>());
        Assert.Equal(Convert.FromBase64String(TinyPdf).Length, record["media_size"]!.GetValue<long>());
    }

    [Fact]
    public async Task Status_moves_sent_then_delivered_then_read_with_timestamps()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var id = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255755123456", message = "Status walk" })).EnsureOk().Message!["id"]!.GetValue<string>();

        var read = await sender.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() == "read");
        Assert.Equal(3, read["ack"]!.GetValue<int>());
        var sent = read["sent_at"]!.GetValue<DateTimeOffset>();
        var delivered = read["delivered_at"]!.GetValue<DateTimeOffset>();
        var readAt = read["read_at"]!.GetValue<DateTimeOffset>();
        Assert.True(sent <= delivered && delivered <= readAt);
        Assert.Equal("api", read["source"]!.GetValue<string>());
        Assert.Equal("outbound", read["direction"]!.GetValue<string>());
        Assert.Equal(sender.Phone, read["from"]!.GetValue<string>());
    }

    [Fact]
    public async Task Wait_zero_answers_queued_with_the_final_id()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var answer = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255755123456", message = "Fire and forget", wait = 0 })).EnsureOk();

        Assert.Equal("queued", answer.Message!["status"]!.GetValue<string>());
        var id = answer.Message!["id"]!.GetValue<string>();
        var record = await sender.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() != "queued" && r["status"]!.GetValue<string>() != "sending");
        Assert.Equal(id, record["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task National_numbers_use_the_instances_default_country()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var answer = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "(0755) 123456", message = "Local" })).EnsureOk();
        Assert.Equal("255755123456", answer.Message!["to"]!.GetValue<string>());
    }

    [Fact]
    public async Task Number_not_on_whatsapp_fails_with_the_reason()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var answer = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255755129999", message = "Anyone?" })).EnsureOk();

        Assert.False(answer.Message!["ok"]!.GetValue<bool>());
        Assert.Equal("failed", answer.Message!["status"]!.GetValue<string>());
        var record = await sender.Client.WaitForMessageAsync(answer.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal("not_on_whatsapp", record["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Simulator_instances_message_each_other()
    {
        app.SkipIfUnavailable();
        var alice = await app.CreateConnectedAsync();
        var bob = await app.ConnectInstanceAsync(alice.Customer);
        (await alice.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = alice.InstanceId, to_number = bob.Phone, message = "Habari Bob" })).EnsureOk();

        var inbox = (await bob.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = bob.InstanceId, direction = "inbound" })).EnsureOk().Message!;
        var received = Assert.Single(inbox["data"]!.AsArray())!;
        Assert.Equal("Habari Bob", received["body"]!.GetValue<string>());
        Assert.Equal(alice.Phone, received["from"]!.GetValue<string>());
        Assert.StartsWith($"false_{alice.Phone}@c.us_3EB0", received["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Instance_not_connected_is_409_and_keeps_nothing()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var instanceId = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();

        var answer = await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instanceId, to_number = "255755123456", message = "x" });

        Assert.Equal(409, answer.Status);
        Assert.Equal("InstanceNotConnectedError", answer.ExcType);
        Assert.Equal(0, (await client.CallAsync("wap_bridge.api.whatsapp.list_messages")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    public static TheoryData<string, string, string, int> BadInputs => new()
    {
        { """{"message":"hi"}""", "to_number", "missing_argument", 417 },
        { """{"to_number":"","message":"hi"}""", "to_number", "missing_argument", 417 },
        { """{"to_number":"255755123456"}""", "message", "missing_argument", 417 },
        { """{"to_number":"255755123456","message":"   "}""", "message", "empty_message", 417 },
        { """{"to_number":"12345","message":"hi"}""", "to_number", "invalid_phone_number", 417 },
        { """{"to_number":"2557551ABC56","message":"hi"}""", "to_number", "invalid_phone_number", 417 },
        { """{"to_number":"255755123456","media_data":"@@not base64@@","mime_type":"image/jpeg"}""", "media_data", "invalid_base64", 417 },
        { $$"""{"to_number":"255755123456","media_data":"{{TinyPdf}}","mime_type":"image/jpeg"}""", "mime_type", "mime_type_mismatch", 417 },
        { $$"""{"to_number":"255755123456","media_data":"{{TinyJpeg}}"}""", "mime_type", "missing_argument", 417 },
        { $$"""{"to_number":"255755123456","media_data":"{{Convert.ToBase64String(new byte[70000].Select((_, i) => i < 3 ? new byte[] { 0xFF, 0xD8, 0xFF }[i] : (byte)0).ToArray())}}","mime_type":"image/jpeg"}""", "media_data", "media_too_large", 417 },
        { $$"""{"to_number":"255755123456","media_data":"{{TinyPdf}}","mime_type":"application/pdf","filename":"../../etc/passwd"}""", "filename", "invalid_filename", 417 },
        { """{"instance_id":"INST-01-9999999","to_number":"255755123456","message":"hi"}""", "instance_id", "not_found", 404 },
        { """{"from_number":"255711111111","to_number":"255755123456","message":"hi"}""", "from_number", "not_found", 404 },
        { """{"to_number":"255755123456","message":"hi","wait":999}""", "wait", "out_of_range", 417 },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_refused_naming_the_field_and_stores_nothing(string body, string field, string code, int status)
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var json = JsonNode.Parse(body)!.AsObject();
        if (!json.ContainsKey("instance_id") && !json.ContainsKey("from_number"))
            json["instance_id"] = sender.InstanceId;

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Send, json.ToJsonString(), "application/json");

        Assert.Equal(status, answer.Status);
        Assert.Equal(field, answer.ErrorField);
        Assert.Equal(code, answer.ErrorCode);
        Assert.Equal(0, (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Customers_never_see_each_others_messages()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var stranger = await app.CreateConnectedAsync();
        var id = (await owner.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = owner.InstanceId, to_number = "255755123456", message = "private" })).EnsureOk().Message!["id"]!.GetValue<string>();

        Assert.Equal(404, (await stranger.Client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id })).Status);
        Assert.Equal(0, (await stranger.Client.CallAsync("wap_bridge.api.whatsapp.list_messages")).EnsureOk().Message!["total"]!.GetValue<int>());
        var sendFromOthers = await stranger.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = owner.InstanceId, to_number = "255755123456", message = "hijack" });
        Assert.Equal(404, sendFromOthers.Status);
    }

    [Fact]
    public async Task List_filters_by_direction_status_and_number()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        foreach (var to in new[] { "255755000001", "255755000002", "255755129999" })
            (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = to, message = "x" })).EnsureOk();

        var failed = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { status = "failed" })).EnsureOk().Message!;
        Assert.Equal(1, failed["total"]!.GetValue<int>());
        var byNumber = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { number = "+255 755 000 002" })).EnsureOk().Message!;
        Assert.Equal("255755000002", Assert.Single(byNumber["data"]!.AsArray())!["to"]!.GetValue<string>());
        var page = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { direction = "outbound", limit = 2 })).EnsureOk().Message!;
        Assert.Equal(3, page["total"]!.GetValue<int>());
        Assert.Equal("255755129999", page["data"]![0]!["to"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_national_number_a_digit_short_is_refused_with_the_reason_and_the_trunk_zero_never_survives()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");

        var shortOne = await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = "075520010", message = "hi" });
        Assert.Equal(417, shortOne.Status);
        Assert.Equal("to_number", shortOne.ErrorField);
        Assert.Equal("invalid_phone_number", shortOne.ErrorCode);
        Assert.Contains("'075520010' is too short for Tanzania (+255)", shortOne.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Contains("too short for Tanzania", shortOne.Body!["_server_messages"]!.GetValue<string>());
        var invalidForCountry = await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = "+255 555 200100", message = "hi" });
        Assert.Equal(417, invalidForCountry.Status);
        Assert.Contains("is not a valid number for Tanzania (+255)", invalidForCountry.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(0, (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages")).EnsureOk().Message!["total"]!.GetValue<int>());

        var national = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = "0755200100", message = "hi" })).EnsureOk();
        Assert.Equal("255755200100", national.Message!["to"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("0755200100")]
    [InlineData("+255755200100")]
    [InlineData("255755200100")]
    [InlineData("00255755200100")]
    [InlineData("(0755) 200-100")]
    [InlineData("255755200100@c.us")]
    [InlineData("5520")]
    [InlineData("0755 2")]
    public async Task The_number_filter_matches_national_international_and_partial_forms(string typed)
    {
        app.SkipIfUnavailable();
        // The sender's own number is in every outbound row: one that none of the typed forms matches.
        var sender = await app.CreateConnectedAsync(phone: "255765431098", defaultCountry: "TZ");
        foreach (var to in new[] { "255755200100", "255757111111" })
            (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = to, message = "hi", wait = 0 })).EnsureOk();
        (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255755200100", message = "reply" })).EnsureOk();

        var found = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { number = typed })).EnsureOk().Message!;

        Assert.Equal(2, found["total"]!.GetValue<int>());
        Assert.All(found["data"]!.AsArray(), m => Assert.Contains("255755200100", new[] { m!["to"]?.GetValue<string>(), m["from"]?.GetValue<string>() }));
        var none = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { number = "0799887766" })).EnsureOk().Message!;
        Assert.Equal(0, none["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Idempotent_retry_sends_once()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var body = $$"""{"instance_id":"{{sender.InstanceId}}","to_number":"255755123456","message":"once"}""";
        var first = (await sender.Client.SendRawAsync(HttpMethod.Post, Send, body, "application/json", headers)).EnsureOk();
        var second = (await sender.Client.SendRawAsync(HttpMethod.Post, Send, body, "application/json", headers)).EnsureOk();

        Assert.Equal(first.Message!["id"]!.GetValue<string>(), second.Message!["id"]!.GetValue<string>());
        Assert.Equal(1, (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages")).EnsureOk().Message!["total"]!.GetValue<int>());
    }
}

public sealed class SqliteSendApiMessageTests(SqliteMessagingApp app) : SendApiMessageTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresSendApiMessageTests(PostgresMessagingApp app) : SendApiMessageTests(app), IClassFixture<PostgresMessagingApp>;

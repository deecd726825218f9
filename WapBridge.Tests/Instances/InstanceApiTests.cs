using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Instances;

public abstract class InstanceApiTests(WapBridgeApp app)
{
    private const string P = "wap_bridge.api.instances.";

    private async Task<(HttpClient Client, string InstanceId)> NewInstanceAsync(object? args = null)
    {
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        var created = (await client.CallAsync(P + "create_instance", args ?? new { name = "Shop", engine = "simulator", default_country = "TZ" })).EnsureOk();
        return (client, created.Message!["instance_id"]!.GetValue<string>());
    }

    private static async Task<JsonNode> StatusAsync(HttpClient client, string id) =>
        (await client.CallAsync(P + "instance_status", new { instance_id = id })).EnsureOk().Message!;

    [Fact]
    public async Task Create_starts_pairing_with_a_qr_code_image()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();
        Assert.Matches(@"^INST-01-\d{7}$", id);

        var status = await StatusAsync(client, id);
        Assert.Equal("qr", status["status"]!.GetValue<string>());
        Assert.Equal("simulator", status["engine"]!.GetValue<string>());
        Assert.True(status["is_simulator"]!.GetValue<bool>());
        Assert.Equal("TZ", status["default_country"]!.GetValue<string>());

        var qr = (await client.CallAsync(P + "get_qr", new { instance_id = id })).EnsureOk().Message!;
        Assert.StartsWith("2@", qr["qr"]!.GetValue<string>());
        var image = qr["qr_image"]!.GetValue<string>();
        Assert.StartsWith("data:image/png;base64,", image);
        var png = Convert.FromBase64String(image["data:image/png;base64,".Length..]);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
        Assert.True(qr["expires_at"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Scanning_connects_and_get_qr_then_answers_404()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();

        var scanned = (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = "+255 700 000 123", push_name = "Duka" })).EnsureOk();
        Assert.Equal("connected", scanned.Message!["status"]!.GetValue<string>());

        var status = await StatusAsync(client, id);
        Assert.Equal("255700000123", status["phone_number"]!.GetValue<string>());
        Assert.Equal("Duka", status["push_name"]!.GetValue<string>());
        Assert.NotNull(status["connected_at"]!.GetValue<DateTimeOffset?>());

        var qr = await client.CallAsync(P + "get_qr", new { instance_id = id });
        Assert.Equal(404, qr.Status);
        Assert.Equal("no_qr_pending", qr.ErrorCode);
        Assert.Contains("connected", qr.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_customers_instance_does_not_exist()
    {
        app.SkipIfUnavailable();
        var (_, id) = await NewInstanceAsync();
        var stranger = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(stranger.TokenHeader);

        foreach (var method in new[] { "instance_status", "get_qr", "logout_instance", "restart_instance", "delete_instance" })
        {
            var answer = await client.CallAsync(P + method, new { instance_id = id });
            Assert.True(answer.Status == 404, $"{method}: {answer.Status}");
            Assert.Equal("DoesNotExistError", answer.ExcType);
        }
        var scan = await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = "255700000999" });
        Assert.Equal(404, scan.Status);
        Assert.Equal(0, (await client.CallAsync(P + "list_instances")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("INST-1", "invalid_instance_id", 417)]
    [InlineData("", "missing_argument", 417)]
    [InlineData("INST-01-9999999", "not_found", 404)]
    public async Task Bad_instance_ids_are_named(string id, string code, int status)
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var answer = await client.CallAsync(P + "instance_status", new { instance_id = id });
        Assert.Equal(status, answer.Status);
        Assert.Equal(code, answer.ErrorCode);
        Assert.Equal("instance_id", answer.ErrorField);
    }

    [Theory]
    [InlineData("whatsapp-pigeon", "engine")]
    [InlineData("simulator", "default_country")]
    public async Task Bad_create_arguments_are_named(string engine, string field)
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var answer = await client.CallAsync(P + "create_instance", new { engine, default_country = field == "default_country" ? "Tanzania" : "TZ" });
        Assert.Equal(417, answer.Status);
        Assert.Equal(field, answer.ErrorField);
    }

    [Fact]
    public async Task List_is_paged_and_scoped()
    {
        app.SkipIfUnavailable();
        var (client, first) = await NewInstanceAsync();
        var second = (await client.CallAsync(P + "create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();

        var page = (await client.CallAsync(P + "list_instances", new { limit = 1, offset = 1 })).EnsureOk().Message!;
        Assert.Equal(2, page["total"]!.GetValue<int>());
        Assert.Equal(second, page["data"]![0]!["instance_id"]!.GetValue<string>());
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Pairing_code_then_confirmation_connects()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();
        var code = (await client.CallAsync(P + "request_pairing_code", new { instance_id = id, phone_number = "255700000321" })).EnsureOk();
        Assert.Matches("^[A-Z0-9]{8}$", code.Message!["code"]!.GetValue<string>());
        Assert.Equal("pairing", (await StatusAsync(client, id))["status"]!.GetValue<string>());

        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = "255700000321" })).EnsureOk();
        Assert.Equal("connected", (await StatusAsync(client, id))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Logout_then_restart_shows_a_new_qr_and_delete_removes_it()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = "255700000456" })).EnsureOk();

        var loggedOut = (await client.CallAsync(P + "logout_instance", new { instance_id = id })).EnsureOk();
        Assert.Equal("logged_out", loggedOut.Message!["status"]!.GetValue<string>());

        var restarted = (await client.CallAsync(P + "restart_instance", new { instance_id = id })).EnsureOk();
        Assert.Equal("qr", restarted.Message!["status"]!.GetValue<string>());
        (await client.CallAsync(P + "get_qr", new { instance_id = id })).EnsureOk();

        (await client.CallAsync(P + "delete_instance", new { instance_id = id })).EnsureOk();
        Assert.Equal(404, (await client.CallAsync(P + "instance_status", new { instance_id = id })).Status);
    }

    [Fact]
    public async Task Logout_of_a_never_paired_instance_is_refused_and_changes_nothing()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();

        var logout = await client.CallAsync(P + "logout_instance", new { instance_id = id });
        Assert.Equal(409, logout.Status);
        Assert.Equal("InstanceNotConnectedError", logout.ExcType);
        Assert.Equal("not_paired", logout.ErrorCode);
        Assert.Equal("instance_id", logout.ErrorField);
        Assert.Contains("never paired", logout.Body!["error"]!["message"]!.GetValue<string>());
        // Still pairing: the QR code is there to scan.
        Assert.Equal("qr", (await StatusAsync(client, id))["status"]!.GetValue<string>());
        (await client.CallAsync(P + "get_qr", new { instance_id = id })).EnsureOk();
    }

    [Fact]
    public async Task Retry_now_and_resume_sending_refuse_when_there_is_nothing_to_do()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();

        // Pairing: nothing to reconnect.
        var pairing = await client.CallAsync(P + "reconnect_instance", new { instance_id = id });
        Assert.Equal(409, pairing.Status);
        Assert.Equal("not_reconnectable", pairing.ErrorCode);
        // It changes state: POST only, as contract §1 has it.
        Assert.Equal(403, (await client.SendRawAsync(HttpMethod.Get, "/api/method/" + P + "reconnect_instance?instance_id=" + id)).Status);

        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = "255700000457" })).EnsureOk();
        var connected = await client.CallAsync(P + "reconnect_instance", new { instance_id = id });
        Assert.Equal(417, connected.Status);
        Assert.Equal("already_connected", connected.ErrorCode);

        var status = await StatusAsync(client, id);
        Assert.Equal(0, status["reconnect_attempts"]!.GetValue<int>());
        Assert.Null(status["next_retry_at"]?.GetValue<DateTimeOffset?>());
        var notRestricted = await client.CallAsync(P + "resume_sending", new { instance_id = id });
        Assert.Equal(417, notRestricted.Status);
        Assert.Equal("not_restricted", notRestricted.ErrorCode);
        Assert.Equal("instance_id", notRestricted.ErrorField);
    }

    [Fact]
    public async Task Simulated_inbound_message_answers_its_serialized_id()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = "255757197676" })).EnsureOk();

        var text = (await client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = id, from_number = "255755123456", message = "Sawa" })).EnsureOk();
        Assert.Matches("^false_255755123456@c.us_3EB0[0-9A-F]{16}$", text.Message!["id"]!.GetValue<string>());

        var lid = (await client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = id, from_lid = "120542636048510", message = "Sawa" })).EnsureOk();
        Assert.StartsWith("false_120542636048510@lid_", lid.Message!["id"]!.GetValue<string>());

        var group = (await client.CallAsync("wap_bridge.api.simulator.inbound_message",
            new { instance_id = id, from_number = "255755123456", group_id = "120363025246125486", message = "Hi all" })).EnsureOk();
        Assert.Matches("^false_120363025246125486@g.us_3EB0[0-9A-F]{16}_255755123456@c.us$", group.Message!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Inbound_on_a_disconnected_instance_is_409()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync();
        var answer = await client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = id, from_number = "255755123456", message = "x" });
        Assert.Equal(409, answer.Status);
        Assert.Equal("InstanceNotConnectedError", answer.ExcType);
    }
}

public sealed class SqliteInstanceApiTests(SqliteApp app) : InstanceApiTests(app), IClassFixture<SqliteApp>;

public sealed class PostgresInstanceApiTests(PostgresApp app) : InstanceApiTests(app), IClassFixture<PostgresApp>;

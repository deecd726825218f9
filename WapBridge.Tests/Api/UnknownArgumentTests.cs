using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>
/// Issue 15 item 5: an argument a method does not take is still ignored, as Frappe ignores it, but the answer names it
/// with the closest known name (never its value) and the log records it; the ERPNext gateway stays silent about the
/// static parameters its SMS Settings add.
/// </summary>
public sealed class UnknownArgumentTests
{
    private const string W = "wap_bridge.api.whatsapp.";
    private const string C = "wap_bridge.api.campaigns.";

    private static List<(string Message, string Indicator)> ServerMessages(ApiAnswer answer) =>
        answer.Body?["_server_messages"]?.GetValue<string>() is { } list
            ? JsonNode.Parse(list)!.AsArray().Select(m => JsonNode.Parse(m!.GetValue<string>())!)
                .Select(m => (m["message"]!.GetValue<string>(), m["indicator"]!.GetValue<string>())).ToList()
            : [];

    [Fact]
    public async Task Unknown_arguments_are_named_with_the_closest_known_name_and_logged_without_their_values()
    {
        await using var app = new CapturingApp(settings: FastMessaging.Settings());
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();

        // A campaign still starts (Frappe drops what it does not know), and the answer says which name was meant.
        var created = (await sender.Client.CallAsync(C + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, name = "Ramadan offer secret-value-1", message = "Hello", recipients = new[] { "255757111111" },
        })).EnsureOk();
        var note = Assert.Single(ServerMessages(created));
        Assert.Equal(("Unknown argument `name` was ignored; did you mean `campaign_name`?", "orange"), note);
        Assert.DoesNotContain("secret-value-1", created.Body!.ToJsonString());
        var campaign = created.Message!["campaign"]!.GetValue<string>();

        // campaign_status answers, naming campaign_id.
        var status = (await sender.Client.CallAsync(C + "campaign_status", new { campaign, campaign_id = campaign })).EnsureOk();
        Assert.Equal("Unknown argument `campaign_id` was ignored; did you mean `campaign`?", Assert.Single(ServerMessages(status)).Message);

        // message_status with message_id instead of id: the 417 for the missing id carries the hint as well.
        var id = (await sender.Client.CallAsync(W + "send_api_message", new { instance_id = sender.InstanceId, to_number = "255755123456", message = "hi" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var wrong = await sender.Client.CallAsync(W + "message_status", new { message_id = id });
        Assert.Equal(417, wrong.Status);
        Assert.Equal("id", wrong.ErrorField);
        var messages = ServerMessages(wrong);
        Assert.Equal(2, messages.Count);
        Assert.Equal("red", messages[0].Indicator);
        Assert.Equal(("Unknown argument `message_id` was ignored; did you mean `id`?", "orange"), messages[1]);
        Assert.DoesNotContain(id, wrong.Body!["_server_messages"]!.GetValue<string>());

        // Form arguments too, and a slip of the keyboard; a name close to nothing lists what the method takes.
        var form = await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + W + "send_api_message",
            $"instance_id={sender.InstanceId}&to_numbr=255755123456&message=hi&colour=blue", "application/x-www-form-urlencoded");
        Assert.Equal(417, form.Status);
        Assert.Equal("to_number", form.ErrorField);
        var formNotes = ServerMessages(form).Skip(1).Select(m => m.Message).ToList();
        Assert.Equal("Unknown argument `to_numbr` was ignored; did you mean `to_number`?", formNotes[0]);
        Assert.StartsWith("Unknown argument `colour` was ignored; this method takes `from_number`, `to_number`, `message`", formNotes[1]);

        // A call with only known arguments has no _server_messages at all.
        var clean = (await sender.Client.CallAsync(W + "message_status", new { id })).EnsureOk();
        Assert.Null(clean.Body!["_server_messages"]);

        var logged = app.Logs.Entries.Where(e => e.Values.TryGetValue("Argument", out _)).ToList();
        Assert.Contains(logged, e => e.Values["Argument"] == "name" && e.Values["Suggestion"] == "campaign_name" && e.Values["Method"] == C + "create_and_start_campaign");
        Assert.Contains(logged, e => e.Values["Argument"] == "message_id" && e.Values["Suggestion"] == "id");
        Assert.DoesNotContain("secret-value-1", app.Logs.AllText);
    }

    [Fact]
    public async Task The_erpnext_gateway_is_silent_about_its_static_parameters()
    {
        await using var app = new CapturingApp(settings: FastMessaging.Settings());
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();
        var answer = (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + W + "erpnext_notification_gateway",
            $"message=Stock+low&instance_id={sender.InstanceId}&to_number=255755123456&sender_name=ACME&route=transactional", "application/x-www-form-urlencoded")).EnsureOk();

        Assert.True(answer.Message!["ok"]!.GetValue<bool>());
        Assert.Null(answer.Body!["_server_messages"]);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Values.ContainsKey("Argument"));
    }
}

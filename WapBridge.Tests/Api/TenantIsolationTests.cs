using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Api;

/// <summary>
/// Customer B, with its own key and instance, calls every method of the OpenAPI document naming customer A's records
/// (instance, its number, message, campaign, webhook delivery, customer): each is refused as if the record did not
/// exist (404 <c>DoesNotExistError</c>, or an empty list where the id is only a filter), and A's data is unchanged.
/// </summary>
public abstract class TenantIsolationTests(WapBridgeApp app)
{
    private const string MethodPrefix = "/api/method/wap_bridge.api.";

    /// <summary>A's records, as B would have to guess them.</summary>
    private sealed record Records(string Customer, string Instance, string Phone, string Message, string Contact, string Campaign, long Delivery);

    private enum Expect
    {
        /// <summary>The method acts on the named record: 404 DoesNotExistError.</summary>
        NotFound,

        /// <summary>The id only filters a list: 404, or an empty list.</summary>
        NotFoundOrEmpty,

        /// <summary>Not for customers at all: 403 PermissionError.</summary>
        AdminOnly,

        /// <summary>Names no record: B's own answer, in which none of A's ids appear.</summary>
        NoRecord,
    }

    /// <summary>How B calls a method: arguments valid apart from A's record, and each argument that names one of A's records.</summary>
    private sealed record Probe(Expect Expect, JsonObject Args, (string Argument, JsonNode Value)[] Targets, string[]? NotRecords = null, bool Call = true);

    private static Probe On(JsonObject args, params (string, JsonNode)[] targets) => new(Expect.NotFound, args, targets);

    // Every documented method must be here: a new one fails this test until someone decides how another customer's
    // ids must be refused by it. Arguments named like record ids (instance_id, id, campaign, delivery, customer, *_id)
    // must be probed or declared as not naming a record of ours.
    private static Dictionary<string, Probe> Probes(Records a)
    {
        var text = new JsonObject { ["to_number"] = "255755000009", ["message"] = "from B", ["wait"] = 0 };
        return new()
        {
            ["accounts.get_account"] = new(Expect.NoRecord, [], []),
            ["admin.create_customer"] = new(Expect.AdminOnly, new() { ["name"] = "B's idea", ["email"] = "b@example.com" }, []),
            ["admin.create_api_key"] = new(Expect.AdminOnly, [], [("customer", a.Customer)]),
            ["admin.list_customers"] = new(Expect.AdminOnly, [], []),
            ["admin.list_nodes"] = new(Expect.AdminOnly, [], []),
            ["admin.create_setup_token"] = new(Expect.AdminOnly, [], []),
            ["admin.update_customer"] = new(Expect.AdminOnly, new() { ["name"] = "B's idea" }, [("customer", a.Customer)]),
            ["instances.create_instance"] = new(Expect.NoRecord, [], [], Call: false),
            ["instances.list_instances"] = new(Expect.NoRecord, [], []),
            ["instances.instance_status"] = On([], ("instance_id", a.Instance)),
            ["instances.get_qr"] = On([], ("instance_id", a.Instance)),
            ["instances.request_pairing_code"] = On(new() { ["phone_number"] = "255755000009" }, ("instance_id", a.Instance)),
            ["instances.set_default_instance"] = On([], ("instance_id", a.Instance)),
            ["instances.logout_instance"] = On([], ("instance_id", a.Instance)),
            ["instances.restart_instance"] = On([], ("instance_id", a.Instance)),
            ["instances.reconnect_instance"] = On([], ("instance_id", a.Instance)),
            ["instances.resume_sending"] = On([], ("instance_id", a.Instance)),
            ["instances.override_protection"] = On(new() { ["hours"] = 2 }, ("instance_id", a.Instance)),
            ["instances.delete_instance"] = On([], ("instance_id", a.Instance)),
            ["instances.update_instance"] = On(new() { ["fallback_template"] = "b_template", ["cloudapi"] = new JsonObject { ["access_token"] = "EAAG-from-b" } },
                ("instance_id", a.Instance)),
            ["whatsapp.send_api_message"] = On(text.DeepClone().AsObject(), ("instance_id", a.Instance), ("from_number", a.Phone), ("quoted_id", a.Message)),
            ["whatsapp.send_reaction"] = On(new() { ["emoji"] = "👍", ["wait"] = 0 }, ("id", a.Message)),
            ["whatsapp.send_location"] = On(new() { ["to_number"] = "255755000009", ["latitude"] = 1.5, ["longitude"] = 2.5, ["wait"] = 0 },
                ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["whatsapp.send_contact"] = On(new()
            {
                ["to_number"] = "255755000009", ["contacts"] = new JsonArray(new JsonObject { ["name"] = "B", ["number"] = "255755000009" }), ["wait"] = 0,
            }, ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["whatsapp.send_poll"] = On(new() { ["to_number"] = "255755000009", ["question"] = "B?", ["options"] = new JsonArray("x", "y"), ["wait"] = 0 },
                ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["whatsapp.edit_message"] = On(new() { ["message"] = "B was here", ["wait"] = 0 }, ("id", a.Message)),
            ["whatsapp.delete_message"] = On([], ("id", a.Message)),
            ["whatsapp.mark_read"] = On(new() { ["chat"] = "255755000009" }, ("id", a.Message), ("instance_id", a.Instance)),
            ["whatsapp.send_presence"] = On(new() { ["to_number"] = "255755000009", ["state"] = "composing" }, ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["whatsapp.erpnext_notification_gateway"] = On(text.DeepClone().AsObject(), ("instance_id", a.Instance)),
            ["whatsapp.send_template"] = On(new() { ["to_number"] = "255755000009", ["template"] = "b_template", ["language"] = "en", ["wait"] = 0 },
                ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["whatsapp.list_templates"] = On([], ("instance_id", a.Instance)),
            ["whatsapp.message_status"] = On([], ("id", a.Message)),
            ["whatsapp.list_messages"] = new(Expect.NotFoundOrEmpty, [], [("instance_id", a.Instance), ("campaign", a.Campaign), ("number", a.Contact)]),
            ["campaigns.create_and_start_campaign"] = On(new() { ["message"] = "from B", ["recipients"] = new JsonArray("255755000009") }, ("instance_id", a.Instance)),
            ["campaigns.add_campaign_recipients"] = On(new() { ["recipients"] = new JsonArray("255755000009") }, ("campaign", a.Campaign)),
            ["campaigns.campaign_status"] = On([], ("campaign", a.Campaign)),
            ["campaigns.pause_campaign"] = On([], ("campaign", a.Campaign)),
            ["campaigns.resume_campaign"] = On([], ("campaign", a.Campaign)),
            ["campaigns.cancel_campaign"] = On([], ("campaign", a.Campaign)),
            ["campaigns.list_campaigns"] = new(Expect.NoRecord, [], []),
            ["campaigns.campaign_recipients"] = On([], ("campaign", a.Campaign)),
            ["settings.get_webhook"] = On([], ("instance_id", a.Instance)),
            ["settings.set_webhook"] = On(new() { ["url"] = "http://127.0.0.1:9/b-hook" }, ("instance_id", a.Instance)),
            ["settings.test_webhook"] = On([], ("instance_id", a.Instance)),
            ["settings.list_webhook_deliveries"] = new(Expect.NoRecord, [], []),
            ["settings.redeliver_webhook"] = On([], ("delivery", a.Delivery)),
            ["simulator.scan_qr"] = On(new() { ["phone_number"] = "255755000009" }, ("instance_id", a.Instance)),
            // group_id and quoted_id are WhatsApp ids the simulated contact makes up, not records of ours.
            ["simulator.inbound_message"] = On(new() { ["from_number"] = "255755000009", ["message"] = "to A?" }, ("instance_id", a.Instance))
                with { NotRecords = ["group_id", "quoted_id"] },
            ["simulator.inbound_messages"] = On(new() { ["messages"] = new JsonArray(new JsonObject { ["from_number"] = "255755000009", ["message"] = "to A?" }) },
                ("instance_id", a.Instance)),
            ["simulator.inbound_call"] = On(new() { ["from_number"] = "255755000009" }, ("instance_id", a.Instance)),
            ["simulator.set_conditions"] = On(new() { ["reply_rate"] = 0.5, ["blocked_by"] = new JsonArray("255755000009") }, ("instance_id", a.Instance)),
            ["simulator.inbound_presence"] = On(new() { ["from_number"] = "255755000009", ["state"] = "composing" }, ("instance_id", a.Instance)),
            // group_id and lid are WhatsApp's ids, not records of ours; A's instance is the record to refuse.
            ["contacts.check_numbers"] = On(new() { ["numbers"] = new JsonArray("255755000009") }, ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["contacts.get_profile"] = On(new() { ["number"] = "255755000009" }, ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["contacts.resolve_lid"] = On(new() { ["lid"] = "120542636048510@lid" }, ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["groups.list_groups"] = On([], ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["groups.get_group"] = On(new() { ["group_id"] = "120363041234567890@g.us" }, ("instance_id", a.Instance), ("from_number", a.Phone))
                with { NotRecords = ["group_id"] },
            ["groups.create_group"] = On(new() { ["subject"] = "B's group", ["participants"] = new JsonArray("255755000009") }, ("instance_id", a.Instance),
                ("from_number", a.Phone)),
            ["groups.update_participants"] = On(new() { ["group_id"] = "120363041234567890@g.us", ["action"] = "add", ["participants"] = new JsonArray("255755000009") },
                ("instance_id", a.Instance), ("from_number", a.Phone)) with { NotRecords = ["group_id"] },
            ["groups.update_group"] = On(new() { ["group_id"] = "120363041234567890@g.us", ["subject"] = "B's" }, ("instance_id", a.Instance), ("from_number", a.Phone))
                with { NotRecords = ["group_id"] },
            ["groups.get_invite_link"] = On(new() { ["group_id"] = "120363041234567890@g.us" }, ("instance_id", a.Instance), ("from_number", a.Phone))
                with { NotRecords = ["group_id"] },
            ["groups.revoke_invite_link"] = On(new() { ["group_id"] = "120363041234567890@g.us" }, ("instance_id", a.Instance), ("from_number", a.Phone))
                with { NotRecords = ["group_id"] },
            ["groups.join_group"] = On(new() { ["link"] = "AbCdEfGhIjKlMnOpQrStUv" }, ("instance_id", a.Instance), ("from_number", a.Phone)),
            ["groups.leave_group"] = On(new() { ["group_id"] = "120363041234567890@g.us" }, ("instance_id", a.Instance), ("from_number", a.Phone))
                with { NotRecords = ["group_id"] },
        };
    }

    private static bool NamesARecord(string argument) =>
        argument is "id" or "instance_id" or "campaign" or "delivery" or "customer" || argument.EndsWith("_id", StringComparison.Ordinal);

    [Fact]
    public async Task Every_method_refuses_another_customers_ids_and_changes_nothing_of_theirs()
    {
        app.SkipIfUnavailable();
        var (a, aClient, receiver) = await CustomerAWithEverythingAsync();
        await using var _ = receiver;
        var b = await app.CreateConnectedAsync();
        var before = await SnapshotAsync(aClient, a);
        var hooksBefore = receiver.Received.Count;

        using var anonymous = app.CreateApiClient();
        var document = JsonNode.Parse(await anonymous.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!;
        var probes = Probes(a);
        var problems = new List<string>();
        var documented = new List<string>();
        foreach (var (path, _) in document["paths"]!.AsObject())
        {
            if (!path.StartsWith(MethodPrefix, StringComparison.Ordinal))
                continue;
            var method = path[MethodPrefix.Length..];
            documented.Add(method);
            if (!probes.TryGetValue(method, out var probe))
            {
                problems.Add($"{method}: not probed; add it to {nameof(Probes)}");
                continue;
            }
            foreach (var argument in Arguments(document, path).Where(NamesARecord))
                if (!probe.Targets.Any(t => t.Argument == argument) && probe.NotRecords?.Contains(argument) != true)
                    problems.Add($"{method}: argument {argument} looks like a record id but is not probed");

            if (!probe.Call)
                continue;
            if (probe.Expect == Expect.NoRecord)
            {
                var answer = await b.Client.CallAsync("wap_bridge.api." + method, probe.Args);
                var body = answer.Body?.ToJsonString() ?? "";
                if (answer.Status != 200)
                    problems.Add($"{method}: B's own call answered {answer.Status} {body}");
                foreach (var id in new[] { a.Instance, a.Phone, a.Message, a.Campaign, a.Customer })
                    if (body.Contains(id, StringComparison.Ordinal))
                        problems.Add($"{method}: B sees A's {id}");
                continue;
            }
            // Admin methods are refused whole; elsewhere each of A's records is tried on its own.
            var calls = probe.Expect == Expect.AdminOnly
                ? [("", With(probe.Args, probe.Targets))]
                : probe.Targets.Select(t => (t.Argument, With(probe.Args, [t]))).ToList();
            foreach (var (argument, args) in calls)
            {
                var answer = await b.Client.CallAsync("wap_bridge.api." + method, args);
                var refused = probe.Expect switch
                {
                    Expect.AdminOnly => answer.Status == 403 && answer.ExcType == "PermissionError",
                    Expect.NotFound => answer.Status == 404 && answer.ExcType == "DoesNotExistError",
                    _ => answer.Status == 404 && answer.ExcType == "DoesNotExistError"
                         || answer.Status == 200 && answer.Message?["data"]?.AsArray().Count == 0 && answer.Message?["total"]?.GetValue<int>() == 0,
                };
                if (!refused)
                    problems.Add($"{method} {argument}: not refused, {answer.Status} {answer.Body?.ToJsonString()}");
            }
        }
        foreach (var stale in probes.Keys.Except(documented))
            problems.Add($"{stale}: probed but not in /openapi/v1.json");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(before, await SnapshotAsync(aClient, a));
        Assert.Equal(hooksBefore, receiver.Received.Count);
    }

    private static JsonObject With(JsonObject args, IEnumerable<(string Argument, JsonNode Value)> targets)
    {
        var merged = args.DeepClone().AsObject();
        foreach (var (argument, value) in targets)
            merged[argument] = value.DeepClone();
        return merged;
    }

    /// <summary>The method's documented arguments.</summary>
    private static IEnumerable<string> Arguments(JsonNode document, string path)
    {
        var operation = document["paths"]![path]!["post"]!;
        var schema = operation["requestBody"]?["content"]?["application/json"]?["schema"];
        if (schema?["$ref"]?.GetValue<string>() is { } reference)
            schema = document["components"]!["schemas"]![reference.Split('/')[^1]];
        return schema?["properties"]?.AsObject().Select(p => p.Key) ?? [];
    }

    /// <summary>Customer A: a connected instance that sent and received a message, a scheduled campaign and a delivered webhook.</summary>
    private async Task<(Records Records, HttpClient Client, WebhookReceiver Receiver)> CustomerAWithEverythingAsync()
    {
        var a = await app.CreateConnectedAsync();
        const string contact = "255755000001";
        var sent = (await a.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = a.InstanceId, to_number = contact, message = "A's secret" })).EnsureOk().Message!["id"]!.GetValue<string>();
        await a.Client.WaitForMessageAsync(sent, r => r["status"]!.GetValue<string>() == "read");
        (await a.Client.CallAsync("wap_bridge.api.simulator.inbound_message",
            new { instance_id = a.InstanceId, from_number = contact, message = "A's reply" })).EnsureOk();
        var campaign = (await a.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = a.InstanceId, message = "A's campaign", recipients = new[] { contact, "255755000002" },
            scheduled_at = DateTimeOffset.UtcNow.AddDays(1).ToString("O"),
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        var receiver = await WebhookReceiver.StartAsync();
        (await a.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, secret = "a-webhook-secret-0123456789" })).EnsureOk();
        var delivery = (await a.Client.CallAsync("wap_bridge.api.settings.test_webhook")).EnsureOk().Message!["delivery"]!.GetValue<long>();
        await receiver.WaitForAsync(r => r.Count >= 1);
        return (new Records(a.Customer.Code, a.InstanceId, a.Phone, sent, contact, campaign, delivery), a.Client, receiver);
    }

    /// <summary>Everything A can see of its own data.</summary>
    private static async Task<string> SnapshotAsync(HttpClient client, Records a)
    {
        var snapshot = new JsonObject();
        foreach (var (method, args) in new (string, object?)[]
        {
            ("instances.list_instances", null),
            ("instances.instance_status", new { instance_id = a.Instance }),
            ("whatsapp.list_messages", new { limit = 100 }),
            ("campaigns.list_campaigns", null),
            ("campaigns.campaign_status", new { campaign = a.Campaign }),
            ("campaigns.campaign_recipients", new { campaign = a.Campaign }),
            ("settings.get_webhook", null),
            ("settings.list_webhook_deliveries", null),
            ("accounts.get_account", null),
        })
        {
            var message = (await client.CallAsync("wap_bridge.api." + method, args)).EnsureOk().Message!.DeepClone();
            // Counted down from now, not data.
            if (message is JsonObject status)
                status.Remove("eta_seconds");
            snapshot[method] = message;
        }
        return snapshot.ToJsonString();
    }
}

public sealed class SqliteTenantIsolationTests(SqliteWebhookApp app) : TenantIsolationTests(app), IClassFixture<SqliteWebhookApp>;

public sealed class PostgresTenantIsolationTests(PostgresWebhookApp app) : TenantIsolationTests(app), IClassFixture<PostgresWebhookApp>;

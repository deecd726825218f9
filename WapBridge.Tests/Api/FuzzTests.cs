using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>
/// A host for fuzzing: no rate limits and no failed-authentication limit (every request reaches its method; the fuzz
/// sends wrong keys on purpose, from one address), loopback webhook targets allowed.
/// </summary>
public static class FuzzHost
{
    public static Dictionary<string, string?> Settings() => FastMessaging.Settings(new Dictionary<string, string?>
    {
        ["WapBridge:Api:RateLimit:Enabled"] = "false",
        ["WapBridge:Api:AuthFailures:Limit"] = "0",
        ["WapBridge:Webhooks:AllowLoopbackTargets"] = "true",
        ["WapBridge:Campaigns:MinDelaySeconds"] = "3600",
        ["WapBridge:Campaigns:MaxDelaySeconds"] = "3600",
    });
}

public sealed class SqliteFuzzApp() : WapBridgeApp("sqlite", FuzzHost.Settings());

public sealed class PostgresFuzzApp() : WapBridgeApp("postgres", FuzzHost.Settings());

/// <summary>
/// Issue 13: a few thousand generated bodies across every method of the OpenAPI document (read at test time, so a new
/// method is fuzzed without editing this test): no 5xx, the contract's error body on every 4xx, and every method's
/// handler reached (a 200 or a 417, not only refusals before it). Seeded: set <c>WAPBRIDGE_FUZZ_SEED</c> to explore others.
/// </summary>
public abstract class FuzzTests(WapBridgeApp app)
{
    private const int Requests = 3000;
    private const int InFlight = 4;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(45);

    private const string TinyJpeg = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=";
    private const string TinyPdf = "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9G";

    /// <summary>One argument of a method, as the OpenAPI document describes it.</summary>
    private sealed record Parameter(string Name, string Type, string? Format, IReadOnlyList<Parameter>? Items);

    private sealed record Method(string Name, IReadOnlyList<Parameter> Parameters);

    /// <summary>Ids the generated bodies can use, so that valid-looking calls reach deep into the services.</summary>
    private sealed record World(string Customer, string Token, string MainInstance, string MainPhone, IReadOnlyList<string> Spares,
        string Campaign, string SpareCampaign, string MessageId, long Delivery, string ReceiverUrl);

    private sealed record FuzzRequest(string Method, HttpMethod Verb, string Path, string? ContentType, byte[]? Body, string Authorization, string Shape);

    [Fact]
    public async Task Generated_bodies_never_answer_5xx_and_reach_every_method()
    {
        app.SkipIfUnavailable();
        var seed = int.TryParse(Environment.GetEnvironmentVariable("WAPBRIDGE_FUZZ_SEED"), out var s) ? s : 13;
        await using var receiver = await WebhookReceiver.StartAsync();
        var methods = await MethodsAsync();
        Assert.True(methods.Count >= 30, $"the OpenAPI document lists only {methods.Count} methods");
        var world = await WorldAsync(receiver.Url);

        var random = new Random(seed);
        var requests = Enumerable.Range(0, Requests).Select(i => Generate(random, methods[i % methods.Count], world)).ToList();

        var answers = new ConcurrentBag<(FuzzRequest Request, int Status, string Body)>();
        var clock = Stopwatch.StartNew();
        using var client = app.CreateApiClient();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, InFlight).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests.Count && clock.Elapsed < Budget)
            {
                var request = requests[i];
                using var message = new HttpRequestMessage(request.Verb, request.Path);
                message.Headers.TryAddWithoutValidation("Authorization", request.Authorization);
                if (request.Body is not null)
                {
                    message.Content = new ByteArrayContent(request.Body);
                    if (request.ContentType is not null)
                        message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
                }
                using var response = await client.SendAsync(message, TestContext.Current.CancellationToken);
                answers.Add((request, (int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
            }
        }));
        var elapsed = clock.Elapsed;

        var all = answers.ToList();
        Report(seed, all, methods, elapsed);
        Assert.True(all.Count >= 1000, $"only {all.Count} requests ran within {Budget.TotalSeconds} s");
        var serverErrors = all.Where(a => a.Status >= 500).ToList();
        Assert.True(serverErrors.Count == 0, $"{serverErrors.Count} answers were 5xx (seed {seed}), e.g.:\n" + Describe(serverErrors));
        var badShape = all.Where(a => a.Status >= 400 && !HasErrorShape(a.Body)).ToList();
        Assert.True(badShape.Count == 0, $"{badShape.Count} error answers lack the contract's error body (seed {seed}), e.g.:\n" + Describe(badShape));
        var unreached = methods.Select(m => m.Name).Where(name => !all.Any(a => a.Request.Method == name && a.Status is 200 or 417)).ToList();
        Assert.True(unreached.Count == 0, "these methods never answered 200 or 417: " + string.Join(", ", unreached));
    }

    private static void Report(int seed, List<(FuzzRequest Request, int Status, string Body)> all, List<Method> methods, TimeSpan elapsed)
    {
        var statuses = string.Join(", ", all.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        var shapes = string.Join(", ", all.GroupBy(a => a.Request.Shape).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"fuzz seed {seed}: {all.Count} requests over {methods.Count} methods in {elapsed.TotalSeconds:0.0} s; statuses {statuses}; bodies {shapes}");
        foreach (var method in all.GroupBy(a => a.Request.Method).OrderBy(g => g.Key))
            TestContext.Current.TestOutputHelper?.WriteLine($"  {method.Key}: " + string.Join(" ", method.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")));
    }

    private static string Describe(IEnumerable<(FuzzRequest Request, int Status, string Body)> answers) =>
        string.Join("\n", answers.Take(8).Select(a =>
        {
            var body = a.Request.Body is null ? "" : Encoding.UTF8.GetString(a.Request.Body);
            return $"{a.Request.Verb} {a.Request.Path} [{a.Request.ContentType}] {(body.Length > 300 ? body[..300] + "…" : body)} → {a.Status} {(a.Body.Length > 300 ? a.Body[..300] : a.Body)}";
        }));

    /// <summary>Contract §1: exc_type, exception, _server_messages (a JSON list in a string) and error.code.</summary>
    private static bool HasErrorShape(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            return node?["exc_type"]?.GetValue<string>() is { Length: > 0 }
                && node["exception"]?.GetValue<string>() is { Length: > 0 }
                && JsonNode.Parse(node["_server_messages"]!.GetValue<string>()) is JsonArray
                && node["error"]?["code"]?.GetValue<string>() is { Length: > 0 };
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            return false;
        }
    }

    private async Task<List<Method>> MethodsAsync()
    {
        using var client = app.CreateApiClient();
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!;
        var schemas = document["components"]?["schemas"];
        JsonNode? Resolve(JsonNode? schema) =>
            schema?["$ref"]?.GetValue<string>() is { } reference ? schemas?[reference.Split('/')[^1]] : schema;
        Parameter ToParameter(string name, JsonNode? schema)
        {
            schema = Resolve(schema);
            var types = schema?["type"] switch
            {
                JsonArray list => list.Select(t => t!.GetValue<string>()).ToList(),
                JsonValue one => [one.GetValue<string>()],
                _ => new List<string>(),
            };
            var type = types.FirstOrDefault(t => t != "null") ?? "any";
            var items = Resolve(schema?["items"]);
            return new Parameter(name, type, schema?["format"]?.GetValue<string>(),
                items?["properties"] is JsonObject fields ? fields.Select(f => ToParameter(f.Key, f.Value)).ToList() : null);
        }

        var methods = new List<Method>();
        foreach (var (path, operations) in document["paths"]!.AsObject())
        {
            if (!path.StartsWith("/api/method/", StringComparison.Ordinal))
                continue;
            var operation = operations!["post"] ?? operations["get"];
            var schema = Resolve(operation?["requestBody"]?["content"]?["application/json"]?["schema"]);
            var parameters = schema?["properties"] is JsonObject properties
                ? properties.Select(p => ToParameter(p.Key, p.Value)).ToList()
                : [];
            methods.Add(new Method(path["/api/method/".Length..], parameters));
        }
        return methods;
    }

    /// <summary>A customer with a connected simulator instance, spare instances to delete, a campaign, a message and a webhook delivery.</summary>
    private async Task<World> WorldAsync(string receiverUrl)
    {
        var sender = await app.CreateConnectedAsync();
        var client = sender.Client;
        var spares = new List<string>();
        for (var i = 0; i < 3; i++)
            spares.Add((await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>());
        var campaigns = new List<string>();
        for (var i = 0; i < 2; i++)
            campaigns.Add((await client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
            {
                instance_id = sender.InstanceId, message = "Hi {{name}}", recipients = new object[] { "255757111111", new { phone_number = "255757222222", name = "Asha" } },
            })).EnsureOk().Message!["campaign"]!.GetValue<string>());
        var messageId = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = "255755123456", message = "Hello" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        (await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiverUrl, events = new[] { "message" } })).EnsureOk();
        (await client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255755000111", message = "Hi" })).EnsureOk();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonNode? delivery;
        while ((delivery = (await client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["data"]!.AsArray().FirstOrDefault()) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no webhook delivery was recorded");
            await Task.Delay(100);
        }
        var deliveryId = delivery["delivery"]!.GetValue<long>();
        return new World(sender.Customer.Code, sender.Customer.TokenHeader, sender.InstanceId, sender.Phone, spares, campaigns[0], campaigns[1], messageId, deliveryId, receiverUrl);
    }

    // ------------------------------------------------------------------ generation

    private static T Pick<T>(Random r, params T[] items) => items[r.Next(items.Length)];

    private static string Json(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static FuzzRequest Generate(Random r, Method method, World w)
    {
        var isAdmin = method.Name.Contains(".admin.", StringComparison.Ordinal);
        var authorization = r.NextDouble() switch
        {
            < 0.02 => "",
            < 0.04 => "token 0123456789abcde:not-the-secret-000000000000000000",
            < 0.07 => isAdmin ? w.Token : "Bearer " + WapBridgeApp.AdminToken,
            _ => isAdmin ? "Bearer " + WapBridgeApp.AdminToken : w.Token,
        };
        var verb = r.NextDouble() < 0.08 ? HttpMethod.Get : HttpMethod.Post;
        var path = "/api/" + (r.NextDouble() < 0.1 ? "v1/" : "") + "method/" + method.Name;

        // A third of the bodies are plausible throughout, so that calls also get past validation into the services.
        var hostility = r.NextDouble() < 0.35 ? 0.0 : 0.35;
        var args = new List<(string Name, string Json, string Text)>();
        foreach (var parameter in method.Parameters)
        {
            if (r.NextDouble() < 0.2)
                continue;
            var json = r.NextDouble() < hostility ? Hostile(r, parameter) : Valid(r, method.Name, parameter, w);
            args.Add((parameter.Name, json, AsText(json)));
        }
        if (r.NextDouble() < 0.1)
            args.Add((Pick(r, "cmd", "to_numbr", "Instance_ID", "__proto__", "\\ud800"), Hostile(r, new Parameter("x", "string", null, null)), "x"));
        if (args.Count > 0 && r.NextDouble() < 0.1)
        {
            var repeated = args[r.Next(args.Count)];
            var json = Hostile(r, new Parameter(repeated.Name, "string", null, null));
            args.Add((repeated.Name, json, AsText(json)));
        }
        var jsonBody = "{" + string.Join(",", args.Select(a => (a.Name.StartsWith('\\') ? "\"" + a.Name + "\"" : Json(a.Name)) + ":" + a.Json)) + "}";

        var shape = r.NextDouble();
        if (verb == HttpMethod.Get || shape < 0.05)
        {
            var query = string.Join("&", args.Select(a => Uri.EscapeDataString(a.Name) + "=" + Uri.EscapeDataString(a.Text)));
            return new FuzzRequest(method.Name, verb, path + (query.Length > 0 ? "?" + query : ""), null, null, authorization, "query");
        }
        if (shape < 0.65)
            return new FuzzRequest(method.Name, verb, path, "application/json", Encoding.UTF8.GetBytes(jsonBody), authorization, "json");
        if (shape < 0.77)
        {
            var form = string.Join("&", args.Select(a => Uri.EscapeDataString(a.Name) + "=" + Uri.EscapeDataString(a.Text)));
            // ERPNext sometimes labels a form as JSON.
            var type = r.NextDouble() < 0.2 ? "application/json" : "application/x-www-form-urlencoded";
            return new FuzzRequest(method.Name, verb, path, type, Encoding.UTF8.GetBytes(form), authorization, "form");
        }
        if (shape < 0.87)
            return Multipart(r, method.Name, path, args, authorization);
        return Malformed(r, method.Name, path, jsonBody, authorization);
    }

    private static FuzzRequest Multipart(Random r, string method, string path, List<(string Name, string Json, string Text)> args, string authorization)
    {
        var boundary = "fuzz" + r.Next(100000, 999999);
        var body = new StringBuilder();
        foreach (var (name, _, text) in args)
            body.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{text}\r\n");
        if (r.NextDouble() < 0.4)
        {
            var (fileType, fileName, bytes) = Pick(r, ("application/pdf", "a.pdf", Convert.FromBase64String(TinyPdf)), ("image/jpeg", "p.jpg", Convert.FromBase64String(TinyJpeg)),
                ("text/html", "x.html", "<script>alert(1)</script>"u8.ToArray()));
            body.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fileName}\"\r\nContent-Type: {fileType}\r\n\r\n");
            body.Append(Encoding.Latin1.GetString(bytes)).Append("\r\n");
        }
        body.Append($"--{boundary}--\r\n");
        var bytesOut = Encoding.Latin1.GetBytes(body.ToString());
        var type = $"multipart/form-data; boundary={boundary}";
        var roll = r.NextDouble();
        if (roll < 0.2)
            bytesOut = bytesOut[..r.Next(1, bytesOut.Length)];
        else if (roll < 0.25)
            type = "multipart/form-data";
        return new FuzzRequest(method, HttpMethod.Post, path, type, bytesOut, authorization, "multipart");
    }

    private static FuzzRequest Malformed(Random r, string method, string path, string json, string authorization)
    {
        var (type, body) = r.Next(10) switch
        {
            0 => ("application/json", Encoding.UTF8.GetBytes(json[..r.Next(0, json.Length)])),
            1 => ("application/json", Encoding.UTF8.GetBytes(Pick(r, "[1,2]", "42", "\"text\"", "null", "true", "[]"))),
            2 => (Pick(r, "application/json", "application/octet-stream", "text/plain"), RandomBytes(r)),
            3 => ("application/json", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(json)]),
            4 => ("application/json", Encoding.UTF8.GetBytes("{\"a\":" + new string('[', 100) + new string(']', 100) + "}")),
            5 => ("text/plain", Encoding.UTF8.GetBytes(json)),
            6 => ("application/json", Encoding.UTF8.GetBytes(json + Pick(r, " x", "}", ",{}", "\u0000"))),
            7 => ("application/json", Encoding.UTF8.GetBytes("{\"media_data\":\"" + TinyPdf + "\\u00" + json[..Math.Min(json.Length, 5)])),
            8 => ("application/json; charset=utf-16", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(json)).ToArray()),
            _ => ("application/json", Array.Empty<byte>()),
        };
        return new FuzzRequest(method, HttpMethod.Post, path, type, body, authorization, "malformed");
    }

    private static byte[] RandomBytes(Random r)
    {
        var bytes = new byte[r.Next(1, 200)];
        r.NextBytes(bytes);
        return bytes;
    }

    /// <summary>The form or query text for a JSON token: a string's text, anything else as JSON.</summary>
    private static string AsText(string json)
    {
        try
        {
            return JsonNode.Parse(json) is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : json;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return json;
        }
    }

    /// <summary>A plausible value: real ids of this customer, numbers, media, throttles.</summary>
    private static string Valid(Random r, string method, Parameter p, World w)
    {
        var now = DateTimeOffset.UtcNow;
        return p.Name switch
        {
            "instance_id" when method.EndsWith("delete_instance") || method.EndsWith("logout_instance") || method.EndsWith("restart_instance")
                => Json(r.NextDouble() < 0.9 ? Pick(r, w.Spares.ToArray()) : "INST-01-9999999"),
            "instance_id" => Json(r.NextDouble() < 0.85 ? w.MainInstance : Pick(r, "INST-01-9999999", w.MainInstance.ToLowerInvariant(), " " + w.MainInstance + " ")),
            // Cancelling is for good: the other methods keep a campaign that can still take recipients.
            "campaign" => Json(r.NextDouble() < 0.85 ? (method.EndsWith("cancel_campaign") ? w.SpareCampaign : w.Campaign) : "WAP-CAM-99999"),
            "id" or "quoted_id" => Json(r.NextDouble() < 0.85 ? w.MessageId : "true_255755123456@c.us_3EB0FFFFFFFFFFFFFFFF"),
            "delivery" => r.NextDouble() < 0.85 ? w.Delivery.ToString(CultureInfo.InvariantCulture) : "999999",
            "customer" => Json(r.NextDouble() < 0.85 ? w.Customer : "CUST-9999"),
            "from_number" => Json(Pick(r, w.MainPhone, "+" + w.MainPhone, "255755000111")),
            "to_number" or "phone_number" or "number" => Json(Pick(r, "255755123456", "+255 755 123 456", "0755123456", "255755129999", "255755123456@c.us", "120363025246125486@g.us")),
            "recipients" => "[" + string.Join(",", Enumerable.Range(0, r.Next(1, 6)).Select(i => r.NextDouble() < 0.5
                ? Json($"2557571{r.Next(10000, 99999)}")
                : $$"""{"phone_number":"2557572{{r.Next(10000, 99999)}}","name":"Asha {{i}}"}""")) + "]",
            "messages" => "[" + string.Join(",", Enumerable.Range(0, r.Next(1, 4)).Select(_ =>
                $$"""{"from_number":"2557553{{r.Next(10000, 99999)}}","message":"Hi"}""")) + "]",
            "media_data" => Json(Pick(r, TinyPdf, TinyJpeg)),
            "mime_type" => Json(Pick(r, "application/pdf", "image/jpeg", "audio/ogg; codecs=opus")),
            "filename" => Json(Pick(r, "invoice.pdf", "photo.jpg")),
            "throttle" => Pick(r, """{"min_delay_seconds":3600,"max_delay_seconds":3600}""",
                """{"min_delay_seconds":0,"max_delay_seconds":0,"hourly_limit":10,"daily_limit":100}""",
                """{"min_delay_seconds":3600,"max_delay_seconds":7200,"active_hours":{"start":"08:00","end":"20:00","timezone":"Africa/Dar_es_Salaam"}}"""),
            "events" => Pick(r, """["message"]""", """["message","message.ack","instance.status"]"""),
            "url" => Json(Pick(r, w.ReceiverUrl, "http://127.0.0.1:9/hook", "")),
            "secret" => Json(Convert.ToHexString(Guid.NewGuid().ToByteArray())),
            "generate_secret" => Pick(r, "true", "false"),
            "scheduled_at" or "since" or "until" => Json(now.AddHours(r.Next(-48, 48)).ToString("O", CultureInfo.InvariantCulture)),
            "limit" or "offset" => r.Next(0, 600).ToString(CultureInfo.InvariantCulture),
            "wait" => Pick(r, "0", "1"),
            "engine" => Json(Pick(r, "simulator", "baileys", "cloudapi")),
            "default_country" => Json(Pick(r, "TZ", "KE", "XX")),
            "direction" => Json(Pick(r, "inbound", "outbound")),
            "status" => Json(Pick(r, "queued", "sent", "running", "paused")),
            "state" => Json(Pick(r, "pending", "sent", "dead", "delivered")),
            "event" => Json(Pick(r, "message", "message.ack")),
            "email" => Json($"{Guid.NewGuid():N}@example.com"),
            "from_lid" => Json(r.Next(100000000, 999999999).ToString(CultureInfo.InvariantCulture)),
            "group_id" => Json("120363025246125486"),
            // admin.update_customer changes the world's own customer: quotas that keep the other methods working.
            "max_instances" or "max_recipients_per_campaign" or "max_media_bytes_per_message" => Json("default"),
            _ => p.Type switch
            {
                "integer" => r.Next(0, 100).ToString(CultureInfo.InvariantCulture),
                "boolean" => Pick(r, "true", "false"),
                "array" => "[\"x\"]",
                "object" => "{}",
                _ => Json(Pick(r, "Hello", "Habari 😀", "Invoice {{name}}", "<b>bold</b><br>line", "Acme Ltd")),
            },
        };
    }

    /// <summary>A value of the wrong kind or size, or text that is not valid Unicode.</summary>
    private static string Hostile(Random r, Parameter p) => p.Name switch
    {
        "throttle" when r.NextDouble() < 0.5 => Pick(r, """{"min_delay_seconds":"NaN"}""", """{"max_delay_seconds":"Infinity"}""", """{"min_delay_seconds":1e308}""",
            """{"hourly_limit":-1}""", """{"daily_limit":1e400}""", """{"active_hours":{"start":"25:00","end":"x"}}""", """{"active_hours":{"timezone":"Mars/Base"}}""",
            """{"active_hours":"x"}""", """{"min_delay_seconds":{"a":1}}""", """{"min_delay_seconds":[1]}""", """{"\ud800":1}"""),
        "recipients" or "messages" when r.NextDouble() < 0.5 => Pick(r, "[null]", """[{"phone_number":null}]""", "[[1]]", """{"phone_number":"x"}""", "5",
            "\"255757111111,255757222222\"", """[{"\udc00":"x","phone_number":"255757111111"}]""", "[" + string.Join(",", Enumerable.Repeat("\"1\"", 300)) + "]",
            """[{"from_number":["1"],"message":{"a":1}}]""", """[{"message":"\ud800"}]"""),
        _ => Pick(r, "null", "[null]", "[]", "{}", "[\"x\"]", """{"a":"b"}""", "\"\"", "\"   \"", Json(new string('x', r.Next(1000, 5000))),
            "\"\\ud800\"", "\"x\\udfff\"", "\"a\\u0000b\"", "1e308", "-1e308", "1e400", "1.5", "-1", "0", "2147483648", "9223372036854775808",
            "\"NaN\"", "\"Infinity\"", "true", "false", new string('[', 80) + new string(']', 80), "\"😀\"", "\"<script>alert(1)</script>\"",
            "\"' OR 1=1 --\"", "\"%00\"", "\"\\n\\r\\t\"", "\"../../etc/passwd\"", "\"data:,\"", "\"=\"", "\"2026-13-45T99:99:99Z\""),
    };
}

public sealed class SqliteFuzzTests(SqliteFuzzApp app) : FuzzTests(app), IClassFixture<SqliteFuzzApp>;

public sealed class PostgresFuzzTests(PostgresFuzzApp app) : FuzzTests(app), IClassFixture<PostgresFuzzApp>;

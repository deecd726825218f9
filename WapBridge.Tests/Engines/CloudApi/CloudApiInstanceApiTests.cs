using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// Creating and managing Cloud API instances (contract §11): <c>create_instance</c> with the <c>cloudapi</c> object,
/// <c>update_instance</c>, the <c>cloudapi</c> block of <c>instance_status</c>, and the service the dashboard calls.
/// </summary>
public abstract class CloudApiInstanceApiTests(CloudApiApp app)
{
    private const string P = "wap_bridge.api.instances.";

    private readonly Dictionary<HttpClient, string> _customers = [];

    private async Task<HttpClient> CustomerClientAsync()
    {
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        _customers[client] = customer.Code;
        return client;
    }

    private async Task<int> CustomerIdAsync(HttpClient client)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Customers.Where(c => c.Code == _customers[client]).Select(c => c.Id).SingleAsync();
    }

    private static async Task<JsonNode> StatusAsync(HttpClient client, string id) =>
        (await client.CallAsync(P + "instance_status", new { instance_id = id })).EnsureOk().Message!;

    /// <summary>A template every business account of the fake Graph lists (unique names keep tests apart).</summary>
    private void AddTemplate(JsonObject template)
    {
        lock (app.Graph.Templates)
        {
            if (!app.Graph.Templates.Any(t => t["name"]!.GetValue<string>() == template["name"]!.GetValue<string>()
                    && t["language"]!.GetValue<string>() == template["language"]!.GetValue<string>()))
                app.Graph.Templates.Add(template);
        }
    }

    private FakeGraphNumber NewNumber()
    {
        var number = CloudApiTestInstances.NewNumber();
        app.Graph.AddNumber(number);
        return number;
    }

    [Fact]
    public async Task Create_answers_the_callback_url_and_a_generated_verify_token_then_connects_without_a_qr_code()
    {
        app.SkipIfUnavailable();
        var client = await CustomerClientAsync();
        var number = NewNumber();

        var answer = await client.CallAsync(P + "create_instance", new
        {
            name = "Official", engine = "cloudapi", default_country = "TZ", cloudapi = CloudApiTestInstances.Arguments(number),
        });
        answer.EnsureOk();
        var created = answer.Message!;
        var id = created["instance_id"]!.GetValue<string>();
        Assert.Matches(@"^INST-01-\d{7}$", id);
        Assert.Equal("cloudapi", created["engine"]!.GetValue<string>());
        var baseUrl = app.Services.GetRequiredService<IPublicUrls>().BaseUrl.TrimEnd('/');
        Assert.Equal($"{baseUrl}/webhooks/cloudapi/{id}", created["webhook_url"]!.GetValue<string>());
        Assert.Matches("^[A-Za-z0-9_-]{32}$", created["verify_token"]!.GetValue<string>());
        var text = await answer.Response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(number.AccessToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain(number.AppSecret, text, StringComparison.Ordinal);

        var status = await CloudApiTestInstances.WaitForStatusAsync(client, id, "connected");
        Assert.Equal(new string(number.DisplayPhoneNumber.Where(char.IsAsciiDigit).ToArray()), status["phone_number"]!.GetValue<string>());
        Assert.Equal(number.VerifiedName, status["push_name"]!.GetValue<string>());
        Assert.Equal("cloudapi", status["engine"]!.GetValue<string>());
        Assert.False(status["is_simulator"]!.GetValue<bool>());
        var cloudapi = status["cloudapi"]!;
        Assert.Equal(number.PhoneNumberId, cloudapi["phone_number_id"]!.GetValue<string>());
        Assert.Equal(number.BusinessAccountId, cloudapi["business_account_id"]!.GetValue<string>());
        Assert.Equal(created["webhook_url"]!.GetValue<string>(), cloudapi["webhook_url"]!.GetValue<string>());
        Assert.Null(cloudapi["fallback_template"]);
        var statusText = status.ToJsonString();
        Assert.DoesNotContain(number.AccessToken, statusText, StringComparison.Ordinal);
        Assert.DoesNotContain(number.AppSecret, statusText, StringComparison.Ordinal);
        Assert.DoesNotContain(created["verify_token"]!.GetValue<string>(), statusText, StringComparison.Ordinal);

        // Connected because Graph answered for the number with the instance's own token.
        var asked = app.Graph.Requests.Last(r => r.Method == "GET" && r.Path.EndsWith("/" + number.PhoneNumberId, StringComparison.Ordinal));
        Assert.Equal("Bearer " + number.AccessToken, asked.Header("Authorization"));

        var listed = (await client.CallAsync(P + "list_instances")).EnsureOk().Message!["data"]!.AsArray().Single()!;
        Assert.Equal(number.PhoneNumberId, listed["cloudapi"]!["phone_number_id"]!.GetValue<string>());

        var qr = await client.CallAsync(P + "get_qr", new { instance_id = id });
        Assert.Equal(404, qr.Status);
    }

    [Fact]
    public async Task A_verify_token_of_ones_own_is_kept_and_the_engine_may_be_left_out_with_the_cloudapi_object()
    {
        app.SkipIfUnavailable();
        var client = await CustomerClientAsync();
        var number = NewNumber();
        var created = (await client.CallAsync(P + "create_instance", new { cloudapi = CloudApiTestInstances.Arguments(number, "my.own-Verify_token") }))
            .EnsureOk().Message!;
        Assert.Equal("cloudapi", created["engine"]!.GetValue<string>());
        Assert.Equal("my.own-Verify_token", created["verify_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_cloudapi_arguments_are_417_naming_the_field_and_create_nothing()
    {
        app.SkipIfUnavailable();
        var client = await CustomerClientAsync();
        var number = NewNumber();
        Dictionary<string, object?> With(string field, object? value)
        {
            var args = CloudApiTestInstances.Arguments(number);
            if (value is null)
                args.Remove(field);
            else
                args[field] = value;
            return args;
        }

        var cases = new (object Args, string Field)[]
        {
            (new { engine = "cloudapi", cloudapi = With("phone_number_id", null) }, "cloudapi.phone_number_id"),
            (new { engine = "cloudapi", cloudapi = With("phone_number_id", "+255 700") }, "cloudapi.phone_number_id"),
            (new { engine = "cloudapi", cloudapi = With("business_account_id", null) }, "cloudapi.business_account_id"),
            (new { engine = "cloudapi", cloudapi = With("business_account_id", "waba-1") }, "cloudapi.business_account_id"),
            (new { engine = "cloudapi", cloudapi = With("access_token", null) }, "cloudapi.access_token"),
            (new { engine = "cloudapi", cloudapi = With("access_token", "   ") }, "cloudapi.access_token"),
            (new { engine = "cloudapi", cloudapi = With("access_token", "two words") }, "cloudapi.access_token"),
            (new { engine = "cloudapi", cloudapi = With("app_secret", null) }, "cloudapi.app_secret"),
            (new { engine = "cloudapi", cloudapi = With("verify_token", "short") }, "cloudapi.verify_token"),
            (new { engine = "cloudapi", cloudapi = With("verify_token", "has spaces in it") }, "cloudapi.verify_token"),
            (new { engine = "cloudapi", cloudapi = With("phone_number_id", new[] { "1", "2" }) }, "cloudapi.phone_number_id"),
            (new { engine = "cloudapi", cloudapi = "not an object" }, "cloudapi"),
            (new { engine = "cloudapi" }, "cloudapi"),
            (new { engine = "simulator", cloudapi = CloudApiTestInstances.Arguments(number) }, "cloudapi"),
        };
        foreach (var (args, field) in cases)
        {
            var answer = await client.CallAsync(P + "create_instance", args);
            Assert.True(answer.Status == 417, $"{field}: {answer.Status} {answer.Body?.ToJsonString()}");
            Assert.Equal("ValidationError", answer.ExcType);
            Assert.Equal(field, answer.ErrorField);
            Assert.Contains(field, answer.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.DoesNotContain(number.AccessToken, answer.Body.ToJsonString(), StringComparison.Ordinal);
        }
        Assert.Equal(0, (await client.CallAsync(P + "list_instances")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_new_access_token_reconnects_with_it_and_a_refused_one_disconnects_saying_so()
    {
        app.SkipIfUnavailable();
        var number = NewNumber();
        var instance = await CloudApiTestInstances.CreateConnectedAsync(await CustomerClientAsync(), number);

        var renewed = number with { AccessToken = $"EAAG-renewed-{Guid.NewGuid():N}" };
        app.Graph.AddNumber(renewed);
        var updated = (await instance.Client.CallAsync(P + "update_instance", new
        {
            instance_id = instance.InstanceId, cloudapi = new { access_token = renewed.AccessToken },
        })).EnsureOk().Message!;
        Assert.Equal(instance.InstanceId, updated["instance_id"]!.GetValue<string>());
        Assert.DoesNotContain(renewed.AccessToken, updated.ToJsonString(), StringComparison.Ordinal);
        await CloudApiTestInstances.WaitForStatusAsync(instance.Client, instance.InstanceId, "connected");
        await WaitUntilAsync(() => app.Graph.Requests.Any(r => r.Method == "GET" && r.Path.EndsWith("/" + number.PhoneNumberId, StringComparison.Ordinal)
            && r.Header("Authorization") == "Bearer " + renewed.AccessToken));

        // A token Meta does not accept: the session stops and says why (no endless reconnecting with a dead token).
        (await instance.Client.CallAsync(P + "update_instance", new
        {
            instance_id = instance.InstanceId, cloudapi = new { access_token = "EAAG-revoked-token" },
        })).EnsureOk();
        var refused = await CloudApiTestInstances.WaitForStatusAsync(instance.Client, instance.InstanceId, "disconnected");
        Assert.Contains("token", refused["last_error"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("EAAG-revoked-token", app.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(renewed.AccessToken, app.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(number.AccessToken, app.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(number.AppSecret, app.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_fallback_template_is_set_shown_and_cleared()
    {
        app.SkipIfUnavailable();
        AddTemplate(FakeGraph.Template("order_update", "en_US", "Your order: {{1}}"));
        AddTemplate(FakeGraph.Template("payment_due", "en_US", "Payment due: {{1}}"));
        var instance = await CloudApiTestInstances.CreateConnectedAsync(await CustomerClientAsync(), NewNumber());

        var set = (await instance.Client.CallAsync(P + "update_instance", new
        {
            instance_id = instance.InstanceId, fallback_template = "order_update", fallback_template_language = "en_US",
        })).EnsureOk().Message!;
        Assert.Equal("order_update", set["cloudapi"]!["fallback_template"]!.GetValue<string>());
        Assert.Equal("en_US", set["cloudapi"]!["fallback_template_language"]!.GetValue<string>());
        Assert.Equal("connected", set["status"]!.GetValue<string>());

        var status = await StatusAsync(instance.Client, instance.InstanceId);
        Assert.Equal("order_update", status["cloudapi"]!["fallback_template"]!.GetValue<string>());

        // Another template keeps the language unless one is given.
        var renamed = (await instance.Client.CallAsync(P + "update_instance", new { instance_id = instance.InstanceId, fallback_template = "payment_due" }))
            .EnsureOk().Message!;
        Assert.Equal("payment_due", renamed["cloudapi"]!["fallback_template"]!.GetValue<string>());
        Assert.Equal("en_US", renamed["cloudapi"]!["fallback_template_language"]!.GetValue<string>());

        var cleared = (await instance.Client.CallAsync(P + "update_instance", new { instance_id = instance.InstanceId, fallback_template = "" }))
            .EnsureOk().Message!;
        Assert.Null(cleared["cloudapi"]!["fallback_template"]);
        Assert.Null(cleared["cloudapi"]!["fallback_template_language"]);

        var cases = new (object Args, string Field)[]
        {
            (new { instance_id = instance.InstanceId, fallback_template = "Order Update!" }, "fallback_template"),
            (new { instance_id = instance.InstanceId, fallback_template = "order_update", fallback_template_language = "english" }, "fallback_template_language"),
            (new { instance_id = instance.InstanceId, fallback_template_language = "en" }, "fallback_template_language"),
            (new { instance_id = instance.InstanceId, cloudapi = new { access_token = "" } }, "cloudapi.access_token"),
            (new { instance_id = instance.InstanceId, cloudapi = new { app_secret = "with space" } }, "cloudapi.app_secret"),
            (new { fallback_template = "order_update" }, "instance_id"),
        };
        foreach (var (args, field) in cases)
        {
            var answer = await instance.Client.CallAsync(P + "update_instance", args);
            Assert.True(answer.Status == 417, $"{field}: {answer.Status} {answer.Body?.ToJsonString()}");
            Assert.Equal(field, answer.ErrorField);
        }
        Assert.Null((await StatusAsync(instance.Client, instance.InstanceId))["cloudapi"]!["fallback_template"]);
    }

    [Fact]
    public async Task A_fallback_template_the_account_cannot_send_with_the_text_is_refused_naming_why()
    {
        app.SkipIfUnavailable();
        AddTemplate(FakeGraph.Template("greeting_pending", "en", "Hello {{1}}", status: "PENDING"));
        AddTemplate(FakeGraph.Template("two_fields", "en", "Dear {{1}}, invoice {{2}} is due"));
        AddTemplate(FakeGraph.Template("no_fields", "en", "We are open today"));
        AddTemplate(FakeGraph.Template("plain_notice", "en", "Notice: {{1}}"));
        var instance = await CloudApiTestInstances.CreateConnectedAsync(await CustomerClientAsync(), NewNumber());

        var cases = new (string Template, string? Language, string Code, string Says)[]
        {
            ("never_created", null, "unknown_template", "plain_notice (en)"),
            ("plain_notice", "sw", "unknown_template", "language sw"),
            ("greeting_pending", null, "template_not_approved", "PENDING"),
            ("two_fields", null, "fallback_template_unfit", "{{1}}, {{2}}"),
            ("no_fields", null, "fallback_template_unfit", "none"),
        };
        foreach (var (template, language, code, says) in cases)
        {
            var answer = await instance.Client.CallAsync(P + "update_instance", new
            {
                instance_id = instance.InstanceId, fallback_template = template, fallback_template_language = language,
            });
            Assert.True(answer.Status == 417, $"{template}: {answer.Status} {answer.Body?.ToJsonString()}");
            Assert.Equal("fallback_template", answer.ErrorField);
            Assert.Equal(code, answer.ErrorCode);
            Assert.Contains(says, answer.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        Assert.Null((await StatusAsync(instance.Client, instance.InstanceId))["cloudapi"]!["fallback_template"]);

        // The language alone changes against the template already set: English has it, Swahili does not.
        (await instance.Client.CallAsync(P + "update_instance", new { instance_id = instance.InstanceId, fallback_template = "plain_notice" })).EnsureOk();
        var swahili = await instance.Client.CallAsync(P + "update_instance", new { instance_id = instance.InstanceId, fallback_template_language = "sw" });
        Assert.Equal(417, swahili.Status);
        Assert.Equal("unknown_template", swahili.ErrorCode);
        var status = await StatusAsync(instance.Client, instance.InstanceId);
        Assert.Equal("plain_notice", status["cloudapi"]!["fallback_template"]!.GetValue<string>());
        Assert.Null(status["cloudapi"]!["fallback_template_language"]);
    }

    [Fact]
    public async Task A_fallback_template_is_taken_unchecked_while_graph_cannot_be_asked()
    {
        app.SkipIfUnavailable();
        var number = NewNumber();
        var instance = await CloudApiTestInstances.CreateConnectedAsync(await CustomerClientAsync(), number);
        // Meta no longer accepts the token: the instance stops, and its templates cannot be listed.
        app.Graph.AddNumber(number with { AccessToken = $"EAAG-rotated-{Guid.NewGuid():N}" });
        (await instance.Client.CallAsync(P + "restart_instance", new { instance_id = instance.InstanceId })).EnsureOk();
        await CloudApiTestInstances.WaitForStatusAsync(instance.Client, instance.InstanceId, "disconnected");

        var set = (await instance.Client.CallAsync(P + "update_instance", new { instance_id = instance.InstanceId, fallback_template = "not_listed_yet" }))
            .EnsureOk().Message!;
        Assert.Equal("not_listed_yet", set["cloudapi"]!["fallback_template"]!.GetValue<string>());
        Assert.Contains(app.Logs.Entries, e => e.Message.Contains("fallback template not_listed_yet (en) set unchecked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_instance_is_for_cloud_api_instances_only_and_is_post_only()
    {
        app.SkipIfUnavailable();
        var client = await CustomerClientAsync();
        var simulator = (await client.CallAsync(P + "create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        var answer = await client.CallAsync(P + "update_instance", new { instance_id = simulator, fallback_template = "order_update" });
        Assert.Equal(417, answer.Status);
        Assert.Equal("instance_id", answer.ErrorField);
        Assert.Equal("not_cloudapi", answer.ErrorCode);
        Assert.Null((await StatusAsync(client, simulator))["cloudapi"]);

        var get = await client.SendRawAsync(HttpMethod.Get, $"/api/method/{P}update_instance?instance_id={simulator}");
        Assert.Equal(403, get.Status);
    }

    [Fact]
    public async Task Another_customers_cloud_api_instance_does_not_exist()
    {
        app.SkipIfUnavailable();
        var instance = await CloudApiTestInstances.CreateConnectedAsync(await CustomerClientAsync(), NewNumber());
        var stranger = await CustomerClientAsync();
        var calls = new (string Method, object Args)[]
        {
            ("instance_status", new { instance_id = instance.InstanceId }),
            ("update_instance", new { instance_id = instance.InstanceId, fallback_template = "order_update" }),
            ("update_instance", new { instance_id = instance.InstanceId, cloudapi = new { access_token = "EAAG-stolen" } }),
            ("restart_instance", new { instance_id = instance.InstanceId }),
            ("logout_instance", new { instance_id = instance.InstanceId }),
            ("delete_instance", new { instance_id = instance.InstanceId }),
        };
        foreach (var (method, args) in calls)
        {
            var answer = await stranger.CallAsync(P + method, args);
            Assert.True(answer.Status == 404, $"{method}: {answer.Status}");
            Assert.Equal("DoesNotExistError", answer.ExcType);
        }
        var status = await StatusAsync(instance.Client, instance.InstanceId);
        Assert.Equal("connected", status["status"]!.GetValue<string>());
        Assert.Null(status["cloudapi"]!["fallback_template"]);

        var service = app.Services.GetRequiredService<CloudApiInstances>();
        Assert.Null(await service.GetSetupAsync(await CustomerIdAsync(stranger), instance.InstanceId, CancellationToken.None));
        var owner = await service.GetSetupAsync(await CustomerIdAsync(instance.Client), instance.InstanceId.ToLowerInvariant(), CancellationToken.None);
        Assert.NotNull(owner);
        Assert.Equal(instance.VerifyToken, owner.VerifyToken);
        Assert.Equal(instance.WebhookUrl, owner.WebhookUrl);
        Assert.Equal(instance.Number.PhoneNumberId, owner.PhoneNumberId);
    }

    [Fact]
    public async Task Test_connection_answers_the_number_or_metas_refusal_in_plain_words()
    {
        app.SkipIfUnavailable();
        var number = NewNumber();
        var service = app.Services.GetRequiredService<CloudApiInstances>();

        var ok = await service.TestConnectionAsync($" {number.PhoneNumberId} ", number.AccessToken, CancellationToken.None);
        Assert.True(ok.Ok, ok.Error);
        Assert.Equal(number.DisplayPhoneNumber, ok.DisplayPhoneNumber);
        Assert.Equal(number.VerifiedName, ok.VerifiedName);

        var wrongToken = await service.TestConnectionAsync(number.PhoneNumberId, "EAAG-wrong", CancellationToken.None);
        Assert.False(wrongToken.Ok);
        Assert.Contains("access token", wrongToken.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("190", wrongToken.Error, StringComparison.Ordinal);

        var notDigits = await service.TestConnectionAsync("abc", number.AccessToken, CancellationToken.None);
        Assert.False(notDigits.Ok);
        Assert.Contains("Phone number ID", notDigits.Error, StringComparison.Ordinal);
        var noToken = await service.TestConnectionAsync(number.PhoneNumberId, " ", CancellationToken.None);
        Assert.Contains("Access token", noToken.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(number.AccessToken, app.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_connection_says_when_graph_cannot_be_reached()
    {
        app.SkipIfUnavailable();
        // A loopback port nobody listens on (bound, then released): the connection is refused at once.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var graph = new GraphClient(Options.Create(new CloudApiOptions { GraphBaseUrl = new Uri($"http://127.0.0.1:{port}/v23.0"), RequestTimeout = TimeSpan.FromSeconds(5) }),
            app.Services.GetRequiredService<OutboundConnector>(), TimeProvider.System);
        var service = new CloudApiInstances(app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(), app.Services.GetRequiredService<InstanceService>(),
            graph, app.Services.GetRequiredService<IGrainFactory>(), app.Services.GetRequiredService<IPublicUrls>(),
            app.Services.GetRequiredService<IDataProtectionProvider>(), NullLogger<CloudApiInstances>.Instance);

        var check = await service.TestConnectionAsync(FakeGraph.DefaultNumber.PhoneNumberId, FakeGraph.DefaultNumber.AccessToken, CancellationToken.None);
        Assert.False(check.Ok);
        Assert.StartsWith("Could not reach Meta's Graph API", check.Error, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the condition never held");
            await Task.Delay(50);
        }
    }
}

public sealed class SqliteCloudApiInstanceApiTests(SqliteCloudApiApp app) : CloudApiInstanceApiTests(app), IClassFixture<SqliteCloudApiApp>;

public sealed class PostgresCloudApiInstanceApiTests(PostgresCloudApiApp app) : CloudApiInstanceApiTests(app), IClassFixture<PostgresCloudApiApp>;

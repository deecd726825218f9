using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// An instance's callback URL as Meta calls it (contract §11): the verification handshake, and signed callbacks stored
/// before they are answered; a wrong or missing signature, or a body too large, is refused and nothing is stored.
/// </summary>
public abstract class CloudApiWebhookEndpointTests(CloudApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<List<CloudApiCallback>> CallbacksAsync(int instanceId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        return await db.CloudApiCallbacks.AsNoTracking().Where(c => c.InstanceId == instanceId).OrderBy(c => c.Id).ToListAsync(Ct);
    }

    private static string Handshake(string code, string mode, string token, string challenge) =>
        $"/webhooks/cloudapi/{code}?hub.mode={mode}&hub.verify_token={Uri.EscapeDataString(token)}&hub.challenge={challenge}";

    [Fact]
    public async Task The_handshake_answers_the_challenge_as_text_only_for_the_instances_verify_token()
    {
        app.SkipIfUnavailable();
        var instance = await CloudApiInboundInstances.CreateAsync(app);
        using var meta = app.CreateApiClient();

        var ok = await meta.GetAsync(Handshake(instance.Code, "subscribe", instance.Number.VerifyToken, "1158201444"), Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("text/plain", ok.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1158201444", await ok.Content.ReadAsStringAsync(Ct));

        foreach (var (mode, token) in new[] { ("subscribe", instance.Number.VerifyToken + "x"), ("subscribe", ""), ("unsubscribe", instance.Number.VerifyToken) })
        {
            var refused = await meta.GetAsync(Handshake(instance.Code, mode, token, "1158201444"), Ct);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.DoesNotContain("1158201444", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        var noToken = await meta.GetAsync($"/webhooks/cloudapi/{instance.Code}?hub.mode=subscribe&hub.challenge=1", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);

        // Another instance's verify token does not verify this one.
        var other = await CloudApiInboundInstances.CreateAsync(app);
        Assert.Equal(HttpStatusCode.Forbidden, (await meta.GetAsync(Handshake(instance.Code, "subscribe", other.Number.VerifyToken, "7"), Ct)).StatusCode);
    }

    [Fact]
    public async Task An_unknown_instance_or_one_on_another_engine_is_404_for_both_verbs()
    {
        app.SkipIfUnavailable();
        var simulator = await app.CreateConnectedAsync();
        using var meta = app.CreateApiClient();
        foreach (var code in new[] { "INST-01-0999999", simulator.InstanceId })
        {
            var get = await meta.GetAsync(Handshake(code, "subscribe", "fake-verify-token-0001", "5"), Ct);
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
            var post = await MetaWebhooks.PostAsync(meta, code, "fake-app-secret", MetaWebhooks.Inbound("1", null, MetaWebhooks.Text("255755123456", "hi")));
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
            Assert.Contains("Cloud API instance", await post.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_callback_without_the_right_signature_is_401_and_nothing_is_stored()
    {
        app.SkipIfUnavailable();
        var instance = await CloudApiInboundInstances.CreateAsync(app);
        var other = await CloudApiInboundInstances.CreateAsync(app);
        using var meta = app.CreateApiClient();
        var payload = MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text("255755123456", "hello"));
        var body = payload.ToJsonString();

        var missing = await MetaWebhooks.PostRawAsync(meta, instance.Code, instance.Number.AppSecret, body, signature: "");
        var wrongSecret = await MetaWebhooks.PostRawAsync(meta, instance.Code, "not-the-app-secret", body);
        var tampered = await MetaWebhooks.PostRawAsync(meta, instance.Code, instance.Number.AppSecret, body.Replace("hello", "hullo"),
            signature: MetaWebhooks.Sign(body, instance.Number.AppSecret));
        var notHex = await MetaWebhooks.PostRawAsync(meta, instance.Code, instance.Number.AppSecret, body, signature: "sha256=zz");
        var sha1 = await MetaWebhooks.PostRawAsync(meta, instance.Code, instance.Number.AppSecret, body,
            signature: MetaWebhooks.Sign(body, instance.Number.AppSecret).Replace("sha256=", "sha1=", StringComparison.Ordinal));
        // Tenant isolation: another instance's app secret (another customer's Meta app) cannot post to this instance.
        var othersSecret = await MetaWebhooks.PostRawAsync(meta, instance.Code, other.Number.AppSecret, body);

        foreach (var answer in new[] { missing, wrongSecret, tampered, notHex, sha1, othersSecret })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            Assert.Contains("X-Hub-Signature-256", await answer.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        Assert.Empty(await CallbacksAsync(instance.Id));
        Assert.Empty(await CallbacksAsync(other.Id));
        Assert.DoesNotContain(instance.Number.AppSecret, app.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(MetaWebhooks.Sign(body, instance.Number.AppSecret)[7..], app.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_one_megabyte_is_413_and_not_stored()
    {
        app.SkipIfUnavailable();
        var instance = await CloudApiInboundInstances.CreateAsync(app);
        using var meta = app.CreateApiClient();
        var huge = MetaWebhooks.Inbound(instance.Number.PhoneNumberId, null, MetaWebhooks.Text("255755123456", new string('a', CloudApiCallbackInbox.MaxBodyBytes)));

        var answer = await MetaWebhooks.PostAsync(meta, instance.Code, instance.Number.AppSecret, huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.StatusCode);
        Assert.Empty(await CallbacksAsync(instance.Id));
    }

    [Fact]
    public async Task A_signed_callback_is_stored_exactly_as_sent_before_it_is_answered_200_even_with_the_instance_offline()
    {
        app.SkipIfUnavailable();
        // The session is not open: nothing processes the callback, so what is found is what the endpoint stored before answering.
        var instance = await CloudApiInboundInstances.CreateAsync(app);
        using var meta = app.CreateApiClient();
        var body = MetaWebhooks.Inbound(instance.Number.PhoneNumberId, "Asha", MetaWebhooks.Text("255755123456", "Habari, bei gani? ✓")).ToJsonString();

        var answer = await MetaWebhooks.PostRawAsync(meta, instance.Code, instance.Number.AppSecret, body);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var stored = Assert.Single(await CallbacksAsync(instance.Id));
        Assert.Equal((body, (DateTimeOffset?)null, 0), (stored.Body, stored.ProcessedAt, stored.Attempts));
        // No API key, cookie or antiforgery token is asked of Meta.
        Assert.False(answer.Headers.Contains("Set-Cookie"));
    }
}

public sealed class SqliteCloudApiWebhookEndpointTests(SqliteCloudApiApp app) : CloudApiWebhookEndpointTests(app), IClassFixture<SqliteCloudApiApp>;

public sealed class PostgresCloudApiWebhookEndpointTests(PostgresCloudApiApp app) : CloudApiWebhookEndpointTests(app), IClassFixture<PostgresCloudApiApp>;

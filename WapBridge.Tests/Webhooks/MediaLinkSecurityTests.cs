using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Webhooks;

/// <summary>
/// Media a WhatsApp contact sends is served from the dashboard's origin: a file whose type could run script (HTML, SVG)
/// must never be shown as a page there, and the dashboard's own pages carry a Content-Security-Policy.
/// </summary>
public abstract class MediaLinkSecurityTests(WapBridgeApp app)
{
    private const string TinyJpeg = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=";
    private const string Html = "<!doctype html><script>fetch('/api/method/wap_bridge.api.accounts.get_account').then(r => r.text()).then(alert)</script>";
    private const string Svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(document.cookie)\"><script>alert(1)</script></svg>";

    /// <summary>Injects one inbound media message and answers the <c>media.url</c> its webhook carries.</summary>
    private async Task<Uri> InboundMediaLinkAsync(string base64, string mimeType, string? filename = null)
    {
        var sender = await app.CreateConnectedAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url })).EnsureOk();
        (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new
        {
            instance_id = sender.InstanceId, from_number = "255755123456", media_data = base64, mime_type = mimeType, filename,
        })).EnsureOk();
        var message = JsonNode.Parse((await receiver.WaitForAsync(r => r.Count >= 1))[0].Body)!["message"]!;
        return new Uri(message["media"]!["url"]!.GetValue<string>());
    }

    private async Task<HttpResponseMessage> DownloadAsync(Uri link)
    {
        using var anonymous = app.CreateApiClient();
        var response = await anonymous.GetAsync(link.PathAndQuery, TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
        return response;
    }

    private static void AssertSandboxed(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("sandbox", policy.Split(';', StringSplitOptions.TrimEntries));
        Assert.Contains("default-src 'none'", policy.Split(';', StringSplitOptions.TrimEntries));
    }

    [Theory]
    [InlineData("text/html", Html)]
    [InlineData("image/svg+xml", Svg)]
    [InlineData("text/html; charset=utf-8", Html)]
    public async Task Script_capable_media_is_a_sandboxed_download_of_opaque_bytes(string mimeType, string content)
    {
        app.SkipIfUnavailable();
        var link = await InboundMediaLinkAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(content)), mimeType);

        using var response = await DownloadAsync(link);

        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal("media", response.Content.Headers.ContentDisposition.FileName!.Trim('"'));
        AssertSandboxed(response);
        Assert.Equal(content, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_hostile_file_name_becomes_a_plain_name()
    {
        app.SkipIfUnavailable();
        var link = await InboundMediaLinkAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Html)), "text/html", "../../x\"y\u202Egpj.html");

        using var response = await DownloadAsync(link);

        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal("xygpj.html", response.Content.Headers.ContentDisposition.FileName!.Trim('"'));
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task A_jpeg_is_shown_inline_and_still_unsniffable_and_sandboxed()
    {
        app.SkipIfUnavailable();
        var link = await InboundMediaLinkAsync(TinyJpeg, "image/jpeg");

        using var response = await DownloadAsync(link);

        Assert.Equal("image/jpeg", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("inline", response.Content.Headers.ContentDisposition!.DispositionType);
        AssertSandboxed(response);
        Assert.Equal(Convert.FromBase64String(TinyJpeg), await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Dashboard_pages_carry_a_nonce_based_content_security_policy()
    {
        app.SkipIfUnavailable();
        using var browser = app.CreateApiClient();

        using var first = await browser.GetAsync("/Account/Login", TestContext.Current.CancellationToken);
        using var second = await browser.GetAsync("/Account/Login", TestContext.Current.CancellationToken);

        Assert.Equal(200, (int)first.StatusCode);
        var policy = Assert.Single(first.Headers.GetValues("Content-Security-Policy"));
        var directives = policy.Split(';', StringSplitOptions.TrimEntries);
        Assert.Contains("default-src 'self'", directives);
        Assert.Contains("frame-ancestors 'none'", directives);
        Assert.Contains("base-uri 'self'", directives);
        Assert.Contains("form-action 'self'", directives);
        Assert.Contains("object-src 'none'", directives);
        var scripts = Assert.Single(directives, d => d.StartsWith("script-src "));
        Assert.DoesNotContain("unsafe-inline", scripts);
        Assert.DoesNotContain("unsafe-eval", scripts);
        // The page's one inline script (Blazor's import map) carries the nonce of this answer, and each answer has its own.
        var nonce = Regex.Match(scripts, "'nonce-([^']+)'").Groups[1].Value;
        Assert.NotEmpty(nonce);
        var html = await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains($"<script type=\"importmap\" nonce=\"{nonce}\">", html);
        Assert.DoesNotContain(nonce, Assert.Single(second.Headers.GetValues("Content-Security-Policy")));

        Assert.Equal("nosniff", Assert.Single(first.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(first.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("same-origin", Assert.Single(first.Headers.GetValues("Referrer-Policy")));

        using var api = await browser.GetAsync("/api/method/wap_bridge.api.accounts.get_account", TestContext.Current.CancellationToken);
        Assert.Equal("nosniff", Assert.Single(api.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", Assert.Single(api.Headers.GetValues("Content-Security-Policy")));
    }
}

public sealed class SqliteMediaLinkSecurityTests(SqliteWebhookApp app) : MediaLinkSecurityTests(app), IClassFixture<SqliteWebhookApp>;

public sealed class PostgresMediaLinkSecurityTests(PostgresWebhookApp app) : MediaLinkSecurityTests(app), IClassFixture<PostgresWebhookApp>;

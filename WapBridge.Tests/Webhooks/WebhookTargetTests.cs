using WapBridge.Core.Common.Networking;
using System.Net;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Webhooks;

[Trait("Category", "Unit")]
public sealed class WebhookTargetTests
{
    [Theory]
    // IPv4 special-purpose registry
    [InlineData("0.0.0.0", TargetKind.Reserved)]
    [InlineData("0.1.2.3", TargetKind.Reserved)]
    [InlineData("10.1.2.3", TargetKind.Private)]
    [InlineData("100.64.0.1", TargetKind.Private)]
    [InlineData("100.127.255.254", TargetKind.Private)]
    [InlineData("127.0.0.1", TargetKind.Loopback)]
    [InlineData("127.255.255.254", TargetKind.Loopback)]
    [InlineData("169.254.169.254", TargetKind.Private)]
    [InlineData("172.16.0.1", TargetKind.Private)]
    [InlineData("172.31.255.255", TargetKind.Private)]
    [InlineData("192.0.0.8", TargetKind.Reserved)]
    [InlineData("192.0.2.1", TargetKind.Reserved)]
    [InlineData("192.88.99.1", TargetKind.Reserved)]
    [InlineData("192.168.0.10", TargetKind.Private)]
    [InlineData("198.18.0.1", TargetKind.Reserved)]
    [InlineData("198.19.255.255", TargetKind.Reserved)]
    [InlineData("198.51.100.7", TargetKind.Reserved)]
    [InlineData("203.0.113.9", TargetKind.Reserved)]
    [InlineData("224.0.0.1", TargetKind.Reserved)]
    [InlineData("239.255.255.250", TargetKind.Reserved)]
    [InlineData("240.0.0.1", TargetKind.Reserved)]
    [InlineData("255.255.255.255", TargetKind.Reserved)]
    // IPv6 special-purpose registry, and IPv4 inside IPv6
    [InlineData("::", TargetKind.Reserved)]
    [InlineData("::1", TargetKind.Loopback)]
    [InlineData("::ffff:127.0.0.1", TargetKind.Loopback)]
    [InlineData("::ffff:10.0.0.1", TargetKind.Private)]
    [InlineData("::ffff:192.0.2.1", TargetKind.Reserved)]
    [InlineData("::ffff:8.8.8.8", TargetKind.Public)]
    [InlineData("::127.0.0.1", TargetKind.Reserved)]
    [InlineData("::8.8.8.8", TargetKind.Reserved)]
    [InlineData("::ffff:0:127.0.0.1", TargetKind.Reserved)]
    [InlineData("64:ff9b::7f00:1", TargetKind.Reserved)]
    [InlineData("64:ff9b::a00:1", TargetKind.Reserved)]
    [InlineData("64:ff9b::c000:201", TargetKind.Reserved)]
    [InlineData("64:ff9b::808:808", TargetKind.Public)]
    [InlineData("64:ff9b:1::808:808", TargetKind.Reserved)]
    [InlineData("100::1", TargetKind.Reserved)]
    [InlineData("2001::1", TargetKind.Reserved)]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", TargetKind.Reserved)]
    [InlineData("2001:2::1", TargetKind.Reserved)]
    [InlineData("2001:1ff::1", TargetKind.Reserved)]
    [InlineData("2001:db8::1", TargetKind.Reserved)]
    [InlineData("3fff::1", TargetKind.Reserved)]
    [InlineData("3fff:fff::1", TargetKind.Reserved)]
    [InlineData("5f00::1", TargetKind.Reserved)]
    [InlineData("2002:7f00:1::1", TargetKind.Reserved)]
    [InlineData("2002:a00:1::1", TargetKind.Reserved)]
    [InlineData("2002:808:808::1", TargetKind.Public)]
    [InlineData("fc00::1", TargetKind.Private)]
    [InlineData("fd12:3456::1", TargetKind.Private)]
    [InlineData("fe80::1", TargetKind.Private)]
    [InlineData("fe80::1%2", TargetKind.Private)]
    [InlineData("fec0::1", TargetKind.Private)]
    [InlineData("ff02::1", TargetKind.Reserved)]
    [InlineData("ff0e::1", TargetKind.Reserved)]
    [InlineData("4000::1", TargetKind.Reserved)]
    // Public
    [InlineData("8.8.8.8", TargetKind.Public)]
    [InlineData("1.1.1.1", TargetKind.Public)]
    [InlineData("100.63.255.255", TargetKind.Public)]
    [InlineData("100.128.0.1", TargetKind.Public)]
    [InlineData("172.15.255.255", TargetKind.Public)]
    [InlineData("172.32.0.1", TargetKind.Public)]
    [InlineData("192.0.1.1", TargetKind.Public)]
    [InlineData("198.17.255.255", TargetKind.Public)]
    [InlineData("198.20.0.1", TargetKind.Public)]
    [InlineData("223.255.255.254", TargetKind.Public)]
    [InlineData("2606:4700:4700::1111", TargetKind.Public)]
    [InlineData("2001:200::1", TargetKind.Public)]
    [InlineData("2a00:1450:4001::1", TargetKind.Public)]
    [InlineData("3ffe:1000::1", TargetKind.Public)]
    public void Every_special_purpose_range_is_classified(string address, TargetKind kind) =>
        Assert.Equal(kind, WebhookTargets.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8", false, false, true)]
    [InlineData("127.0.0.1", false, false, false)]
    [InlineData("127.0.0.1", true, false, true)]
    [InlineData("::ffff:127.0.0.1", false, false, false)]
    [InlineData("::ffff:127.0.0.1", true, false, true)]
    [InlineData("192.168.1.1", true, false, false)]
    [InlineData("192.168.1.1", false, true, true)]
    [InlineData("127.0.0.1", false, true, true)]
    // Reserved ranges and translated loopback stay refused whatever is allowed.
    [InlineData("64:ff9b::7f00:1", true, true, false)]
    [InlineData("::127.0.0.1", true, true, false)]
    [InlineData("192.0.2.1", true, true, false)]
    [InlineData("198.18.0.1", true, true, false)]
    [InlineData("2002:7f00:1::1", true, true, false)]
    [InlineData("0.0.0.0", true, true, false)]
    public void Loopback_needs_its_own_switch_and_private_needs_the_other(string address, bool loopback, bool @private, bool allowed) =>
        Assert.Equal(allowed, WebhookTargets.IsAllowed(IPAddress.Parse(address),
            new WebhookOptions { AllowLoopbackTargets = loopback, AllowPrivateTargets = @private }));

    [Fact]
    public void The_hosts_own_addresses_count_as_loopback_whatever_their_range()
    {
        var own = new HashSet<IPAddress> { IPAddress.Parse("8.8.4.4"), IPAddress.Parse("2a00:1450::5") };
        Assert.Equal(TargetKind.Loopback, WebhookTargets.Classify(IPAddress.Parse("8.8.4.4"), own));
        Assert.Equal(TargetKind.Loopback, WebhookTargets.Classify(IPAddress.Parse("::ffff:8.8.4.4"), own));
        Assert.Equal(TargetKind.Loopback, WebhookTargets.Classify(IPAddress.Parse("2a00:1450::5"), own));
        Assert.Equal(TargetKind.Public, WebhookTargets.Classify(IPAddress.Parse("8.8.8.8"), own));
        Assert.False(WebhookTargets.IsAllowed(IPAddress.Parse("8.8.4.4"), new WebhookOptions(), own));
        Assert.True(WebhookTargets.IsAllowed(IPAddress.Parse("8.8.4.4"), new WebhookOptions { AllowLoopbackTargets = true }, own));
        // The real list is read from the interfaces and includes loopback.
        Assert.Contains(IPAddress.Loopback, HostAddresses.Current);
    }

    [Theory]
    [InlineData("http://192.0.2.1/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("http://[64:ff9b::7f00:1]/hook")]
    [InlineData("http://[::127.0.0.1]/")]
    [InlineData("http://[2002:a00:1::1]/")]
    [InlineData("http://10.0.0.1:8080/")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("http://0x7f.1/")]
    [InlineData("http://2130706433/")]
    [InlineData("http://0.0.0.0:5080/")]
    public async Task Refused_addresses_are_never_connected_to(string url)
    {
        var connector = new RecordingConnector();
        var callback = WebhookTargets.ConnectCallback(() => new WebhookOptions(), connector);
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = callback });
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(url, null, TestContext.Current.CancellationToken));
        Assert.IsType<WebhookTargetRefusedException>(error.InnerException);
        Assert.Empty(connector.Connects);
    }

    private sealed class RecordingConnector : OutboundConnector
    {
        public List<IPAddress> Connects { get; } = [];

        public override ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
            throw new InvalidOperationException($"no name may be looked up in this test ({host})");

        public override ValueTask<System.Net.Sockets.NetworkStream> ConnectAsync(IPAddress[] addresses, int port, CancellationToken ct)
        {
            Connects.AddRange(addresses);
            throw new InvalidOperationException("no connection may be opened in this test");
        }
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_at_connect_time()
    {
        var connect = WebhookTargets.ConnectCallback(() => new WebhookOptions(), new LoopbackOnlyConnector());
        using var handler = new SocketsHttpHandler { ConnectCallback = connect };
        using var client = new HttpClient(handler);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://localhost:9/", TestContext.Current.CancellationToken));
        Assert.IsType<WebhookTargetRefusedException>(error.InnerException);
    }

    [Theory]
    [InlineData("https://hooks.example.com/wapbridge", true)]
    [InlineData("http://[2606:4700::1]:8080/x?y=1", true)]
    [InlineData("ftp://example.com/hook", false)]
    [InlineData("/relative/hook", false)]
    [InlineData("https://user:pass@example.com/hook", false)]
    [InlineData("https://example.com/a b", false)]
    [InlineData("https://example.com/a\r\nInjected: yes", false)]
    [InlineData("https://example.com/\u0000", false)]
    public void Urls_must_be_absolute_http_without_credentials_or_control_characters(string url, bool valid)
    {
        url = System.Text.RegularExpressions.Regex.Unescape(url);
        if (valid)
            Assert.Equal(url, WebhookTargets.ParseUrl(url).OriginalString);
        else
            Assert.Equal("url", Assert.Throws<WapBridgeException>(() => WebhookTargets.ParseUrl(url)).Field);
    }

    [Fact]
    public void Urls_longer_than_the_column_are_refused()
    {
        var url = "https://example.com/" + new string('a', WebhookTargets.MaxUrlLength);
        Assert.Equal("too_long", Assert.Throws<WapBridgeException>(() => WebhookTargets.ParseUrl(url)).Code);
    }

    [Theory]
    [InlineData("receiver-shared-secret-123", null)]
    [InlineData("correct horse battery staple", null)]
    [InlineData("!#$%&'()*+,-./:;<=>?@[]^_`{|}~09", null)]
    [InlineData("short", "secret_too_short")]
    [InlineData("legacy-secret\r\nInjected: yes", "invalid_secret")]
    [InlineData("legacy-secret-with\u0000nul", "invalid_secret")]
    [InlineData("tab\tseparated-secret", "invalid_secret")]
    [InlineData("secret-with-\u007f-delete", "invalid_secret")]
    [InlineData("non-ascii-secret-\u00e9\u00e9\u00e9", "invalid_secret")]
    [InlineData(" leading-space-secret", "invalid_secret")]
    [InlineData("trailing-space-secret ", "invalid_secret")]
    public void Secrets_are_printable_ascii_of_16_to_256_characters(string secret, string? code)
    {
        secret = System.Text.RegularExpressions.Regex.Unescape(secret);
        if (code is null)
            WebhookTargets.ValidateSecret(secret);
        else
        {
            var error = Assert.Throws<WapBridgeException>(() => WebhookTargets.ValidateSecret(secret));
            Assert.Equal(("secret", code), (error.Field, error.Code));
        }
    }

    [Fact]
    public void Generated_secrets_pass_and_the_length_limits_hold()
    {
        for (var i = 0; i < 200; i++)
            WebhookTargets.ValidateSecret(WebhookSignature.NewSecret());
        WebhookTargets.ValidateSecret(new string('s', 16));
        WebhookTargets.ValidateSecret(new string('s', 256));
        Assert.Equal("too_long", Assert.Throws<WapBridgeException>(() => WebhookTargets.ValidateSecret(new string('s', 257))).Code);
    }

    [Fact]
    public async Task Reply_excerpts_are_text_every_database_stores()
    {
        // NUL inside, and an emoji whose two halves straddle the 500-character cut.
        var body = "a\0b" + new string('x', 496) + "\U0001F600 and more";
        using var response = new HttpResponseMessage { Content = new StringContent(body) };

        var excerpt = await WebhookSender.ReadExcerptAsync(response, TestContext.Current.CancellationToken);

        Assert.Equal(500, excerpt.Length);
        Assert.Equal("a\uFFFDb", excerpt[..3]);
        Assert.Equal('\uFFFD', excerpt[^1]);
        Assert.Equal(excerpt, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(
            new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(excerpt)));
    }

    [Fact]
    public async Task Media_older_than_the_retention_is_purged_and_fresh_media_kept()
    {
        var store = new MediaStore(Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N")));
        var old = (await store.SaveAsync(new MemoryStream([1, 2, 3]), TestContext.Current.CancellationToken)).Hash;
        var fresh = (await store.SaveAsync(new MemoryStream([4, 5, 6]), TestContext.Current.CancellationToken)).Hash;
        File.SetLastWriteTimeUtc(Path.Combine(store.Root, old[..2], old), DateTime.UtcNow.AddDays(-40));

        Assert.Equal(1, store.PurgeOlderThan(DateTimeOffset.UtcNow.AddDays(-30)));
        Assert.Null(store.OpenRead(old));
        await using var kept = store.OpenRead(fresh)!;
        Assert.Equal(3, kept.Length);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Common.Networking;
using WapBridge.Tests.TestHost;
using Xunit.Sdk;

namespace WapBridge.Tests.Common;

/// <summary>The suite's network guard: nothing but loopback, decided before a lookup or a connect.</summary>
public sealed class NetworkGuardTests
{
    /// <summary>The real connector underneath the guard, recording what reached it.</summary>
    private sealed class RecordingConnector : OutboundConnector
    {
        public ConcurrentQueue<string> Resolved { get; } = new();
        public ConcurrentQueue<IPAddress> Connected { get; } = new();

        public override ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
        {
            Resolved.Enqueue(host);
            return base.ResolveAsync(host, ct);
        }

        public override ValueTask<NetworkStream> ConnectAsync(IPAddress[] addresses, int port, CancellationToken ct)
        {
            foreach (var address in addresses)
                Connected.Enqueue(address);
            return base.ConnectAsync(addresses, port, ct);
        }
    }

    /// <summary>An HttpClient wired as the product wires its clients: every lookup and connect through the connector.</summary>
    private static HttpClient ClientThrough(OutboundConnector connector) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
                await connector.ConnectAsync(await connector.ResolveAsync(context.DnsEndPoint.Host, ct), context.DnsEndPoint.Port, ct),
        });

    [Theory]
    [InlineData("http://example.invalid/", "a DNS lookup of example.invalid")]
    [InlineData("http://web.whatsapp.com/ws/chat", "a DNS lookup of web.whatsapp.com")]
    [InlineData("http://10.0.0.1/", "a connection to 10.0.0.1:80")]
    [InlineData("https://192.0.2.1:8443/", "a connection to 192.0.2.1:8443")]
    [InlineData("http://[::ffff:10.0.0.1]/", "a connection to [::ffff:10.0.0.1]:80")]
    [InlineData("http://[2001:db8::1]/", "a connection to [2001:db8::1]:80")]
    public async Task Anything_but_loopback_is_refused_before_a_lookup_or_a_connect(string url, string refused)
    {
        var real = new RecordingConnector();
        using var client = ClientThrough(new LoopbackOnlyConnector(real));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url, TestContext.Current.CancellationToken));

        Assert.IsType<NetworkRefusedException>(error.InnerException);
        Assert.Contains(refused, error.InnerException!.Message);
        Assert.Contains("127.0.0.0/8, ::1 and localhost", error.InnerException.Message);
        // Names are refused before the resolver sees them, addresses before a socket exists.
        Assert.Empty(real.Resolved);
        Assert.Empty(real.Connected);
        var recorded = Assert.Single(NetworkGuard.Take(v => v.TestId == TestContext.Current.Test!.UniqueID));
        Assert.Equal(refused, recorded.What);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Loopback_passes_to_the_real_connector(string host)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var real = new RecordingConnector();
        using var client = ClientThrough(new LoopbackOnlyConnector(real));
        var port = new Uri(receiver.Url).Port;

        using var response = await client.PostAsync($"http://{host}:{port}/hook", new StringContent("{}"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(receiver.Received);
        Assert.Equal(host == "localhost" ? [host] : [], real.Resolved);
        Assert.NotEmpty(real.Connected);
        Assert.All(real.Connected, address => Assert.True(NetworkGuard.IsLoopback(address), address.ToString()));
    }

    [Fact]
    public async Task Every_test_host_replaces_the_products_connector_so_webhooks_cannot_leave_loopback()
    {
        await using (var app = new WapBridgeApp(settings: new Dictionary<string, string?> { ["WapBridge:Webhooks:AllowPrivateTargets"] = "true" }))
        {
            await app.InitializeAsync();
            Assert.IsType<LoopbackOnlyConnector>(app.Services.GetRequiredService<OutboundConnector>());
            var customer = await app.CreateCustomerAsync();
            using var client = app.CreateApiClient(customer.TokenHeader);
            foreach (var url in new[] { "http://10.0.0.1/hook", "http://hooks.example.invalid/hook" })
            {
                (await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url })).EnsureOk();
                var test = (await client.CallAsync("wap_bridge.api.settings.test_webhook")).EnsureOk();
                Assert.False(test.Message!["delivered"]!.GetValue<bool>());
                Assert.Null(test.Message!["status_code"]);
            }
        }

        // Taken back once the host is gone, so that retries cannot record more after the check.
        var taken = NetworkGuard.Take(v => v.TestId == TestContext.Current.Test!.UniqueID).Select(v => v.What).ToList();
        Assert.Contains("a connection to 10.0.0.1:80", taken);
        Assert.Contains("a DNS lookup of hooks.example.invalid", taken);
    }

    [Fact]
    public void A_violation_nobody_took_back_fails_the_test_that_caused_it()
    {
        _ = NetworkGuard.Refuse("a connection to 203.0.113.7:443");
        var guard = new NetworkGuard.FailTestsThatReachOutAttribute();
        var test = TestContext.Current.Test!;

        var failure = Assert.Throws<XunitException>(() => guard.After(typeof(NetworkGuardTests).GetMethod(nameof(A_violation_nobody_took_back_fails_the_test_that_caused_it))!, (Xunit.v3.IXunitTest)test));

        Assert.Contains("a connection to 203.0.113.7:443", failure.Message);
        // Consumed: the real After of this test finds nothing left.
        Assert.Empty(NetworkGuard.Take(v => v.TestId == test.UniqueID));
    }

    [Fact]
    public async Task The_process_wide_watch_sees_connections_made_outside_the_products_connector()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var before = NetworkGuard.Watcher.ConnectsSeen;

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, TestContext.Current.CancellationToken);

        Assert.True(NetworkGuard.Watcher.ConnectsSeen > before, "the runtime's socket events do not reach the guard");
    }

    [Theory]
    [InlineData("10.0.0.1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("2001:db8::1", false)]
    public void Socket_events_are_read_as_the_address_connected_to(string address, bool loopback)
    {
        var expected = IPAddress.Parse(address);
        var written = new IPEndPoint(expected, 443).Serialize().ToString(); // what the Sockets ConnectStart event carries
        var parsed = NetworkGuard.Watcher.ParseSocketAddress(written);
        Assert.Equal(expected, parsed);
        Assert.Equal(loopback, NetworkGuard.IsLoopback(parsed!));
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST.", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("[::1]", true)]
    [InlineData("example.invalid", false)]
    [InlineData("localhost.example.com", false)]
    [InlineData("10.0.0.1", false)]
    public void Only_loopback_literals_and_localhost_may_be_resolved(string host, bool allowed) =>
        Assert.Equal(allowed, NetworkGuard.IsAllowedHost(host));
}

using System.Net;
using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;

namespace WapBridge.Tests.Webhooks;

public sealed class WebhookTargetTests
{
    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.20.0.1", false)]
    [InlineData("192.168.0.10", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700:4700::1111", true)]
    public void Only_public_addresses_are_public(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookTargets.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void Loopback_needs_its_own_switch_and_private_needs_the_other()
    {
        var loopback = IPAddress.Loopback;
        var lan = IPAddress.Parse("192.168.1.1");
        Assert.False(WebhookTargets.IsAllowed(loopback, new WebhookOptions()));
        Assert.True(WebhookTargets.IsAllowed(loopback, new WebhookOptions { AllowLoopbackTargets = true }));
        Assert.False(WebhookTargets.IsAllowed(lan, new WebhookOptions { AllowLoopbackTargets = true }));
        Assert.True(WebhookTargets.IsAllowed(lan, new WebhookOptions { AllowPrivateTargets = true }));
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_at_connect_time()
    {
        var connect = WebhookTargets.ConnectCallback(() => new WebhookOptions());
        using var handler = new SocketsHttpHandler { ConnectCallback = connect };
        using var client = new HttpClient(handler);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://localhost:9/", TestContext.Current.CancellationToken));
        Assert.Contains("private or loopback", error.Message + error.InnerException?.Message);
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

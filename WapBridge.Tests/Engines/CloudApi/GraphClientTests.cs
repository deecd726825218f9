using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

[Trait("Category", "Unit")]
public sealed class GraphClientTests : IAsyncLifetime
{
    private FakeGraph _graph = null!;
    private GraphClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static CloudApiCredentials Credentials => FakeGraph.DefaultNumber.Credentials;

    public async ValueTask InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        _client = new GraphClient(Options.Create(new CloudApiOptions { GraphBaseUrl = _graph.BaseUrl, RequestTimeout = TimeSpan.FromSeconds(5) }),
            new LoopbackOnlyConnector(), TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _graph.DisposeAsync();
    }

    [Fact]
    public async Task Phone_number_is_asked_with_the_bearer_token_and_the_fields()
    {
        var number = await _client.GetPhoneNumberAsync(Credentials.PhoneNumberId, Credentials.AccessToken, Ct);

        Assert.Equal(new GraphPhoneNumber(Credentials.PhoneNumberId, "+255 700 000 111", "Duka Test", "GREEN"), number);
        var request = Assert.Single(_graph.Requests);
        Assert.Equal($"/v23.0/{Credentials.PhoneNumberId}", request.Path);
        Assert.Equal("?fields=display_phone_number,verified_name,quality_rating", request.Query);
        Assert.Equal($"Bearer {Credentials.AccessToken}", request.Header("Authorization"));
    }

    [Fact]
    public async Task A_refused_token_is_a_graph_exception_with_meta_code_190()
    {
        var e = await Assert.ThrowsAsync<GraphException>(() => _client.GetPhoneNumberAsync(Credentials.PhoneNumberId, "EAAG-wrong", Ct));

        Assert.Equal(190, e.MetaCode);
        Assert.Equal(401, e.HttpStatus);
        Assert.Equal(GraphErrorCodes.AccessTokenInvalid, e.Code);
        Assert.True(e.IsTokenRefused);
        Assert.Contains("(Meta error 190)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graph_unreachable_is_a_connection_error_that_never_sent_anything()
    {
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        using var client = new GraphClient(Options.Create(new CloudApiOptions { GraphBaseUrl = new Uri($"http://127.0.0.1:{port}/v23.0") }),
            new LoopbackOnlyConnector(), TimeProvider.System);

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetPhoneNumberAsync("1", "t", Ct));

        Assert.True(GraphClient.IsNeverSent(e));
    }

    [Fact]
    public async Task Templates_are_listed_across_pages_with_body_and_variables_in_order()
    {
        _graph.TemplatePageSize = 2;
        _graph.Templates.Add(FakeGraph.Template("order_ready", "en", "Hello {{1}}, order {{2}} is ready"));
        _graph.Templates.Add(FakeGraph.Template("welcome", "sw", "Karibu {{first_name}}! {{first_name}} {{shop}}", category: "MARKETING"));
        _graph.Templates.Add(FakeGraph.Template("pending_one", "en", "Paid {{2}} for order {{1}}", status: "PENDING"));

        var templates = await _client.ListTemplatesAsync(Credentials, Ct);

        Assert.Equal(["order_ready", "welcome", "pending_one"], templates.Select(t => t.Name));
        Assert.Equal(["1", "2"], templates[0].Variables);
        Assert.Equal(["first_name", "shop"], templates[1].Variables);
        Assert.Equal(("sw", "APPROVED", "MARKETING"), (templates[1].Language, templates[1].Status, templates[1].Category));
        Assert.Equal("Hello {{1}}, order {{2}} is ready", templates[0].Body);
        Assert.Equal("PENDING", templates[2].Status);
        Assert.Equal(["1", "2"], templates[2].Variables);
        Assert.Equal(2, _graph.Requests.Count);
        Assert.All(_graph.Requests, r => Assert.Equal($"/v23.0/{Credentials.BusinessAccountId}/message_templates", r.Path));
        Assert.Contains("fields=name,language,status,category,components", _graph.Requests[0].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Media_is_downloaded_with_the_token_and_its_hash_checked()
    {
        var bytes = RandomNumberGenerator.GetBytes(5000);
        var id = _graph.AddMedia(bytes, "image/jpeg");

        var media = await _client.DownloadMediaAsync(Credentials, id, 10_000, Ct);

        Assert.Equal(bytes, media.Data);
        Assert.Equal("image/jpeg", media.MimeType);
        Assert.All(_graph.Requests, r => Assert.Equal($"Bearer {Credentials.AccessToken}", r.Header("Authorization")));
        Assert.Equal(["/v23.0/" + id, "/media-download/" + id], _graph.Requests.Select(r => r.Path));
    }

    [Fact]
    public async Task Media_over_the_cap_is_refused_without_downloading_it()
    {
        var id = _graph.AddMedia(new byte[20_000], "video/mp4");

        var e = await Assert.ThrowsAsync<GraphException>(() => _client.DownloadMediaAsync(Credentials, id, 10_000, Ct));

        Assert.Equal("media_too_large", e.Code);
        Assert.DoesNotContain(_graph.Requests, r => r.Path.StartsWith("/media-download/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Media_larger_than_graph_announced_is_refused_once_the_cap_is_passed()
    {
        var id = _graph.AddMedia(new byte[50_000], "application/pdf", announcedSize: 100);

        var e = await Assert.ThrowsAsync<GraphException>(() => _client.DownloadMediaAsync(Credentials, id, 10_000, Ct));

        Assert.Equal("media_too_large", e.Code);
        Assert.Contains("10000 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Media_whose_bytes_do_not_match_the_announced_hash_is_refused()
    {
        var id = _graph.AddMedia([1, 2, 3], "audio/ogg", announcedSha256: Convert.ToHexStringLower(SHA256.HashData([9, 9, 9])));

        var e = await Assert.ThrowsAsync<GraphException>(() => _client.DownloadMediaAsync(Credentials, id, 10_000, Ct));

        Assert.Equal(GraphErrorCodes.MediaFailed, e.Code);
        Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
    }
}

using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Webhooks;

namespace WapBridge.Web.Hosting;

/// <summary>
/// Where links WapBridge hands out point: configured public URLs, else the first address Kestrel listens on.
/// Never a request's Host header, which any client can set (a password-reset link must not point elsewhere).
/// </summary>
public sealed class ServerPublicUrls(IServer server, IOptions<WapBridgeOptions> root, IOptions<WebhookOptions> webhooks) : IPublicUrls
{
    /// <summary>The server's own address: <c>WapBridge:PublicBaseUrl</c>, else the listen address.</summary>
    public string SiteBaseUrl => root.Value.PublicBaseUrl is { Length: > 0 } configured ? configured : ListenAddress;

    /// <summary>Media links: <c>Webhooks:PublicBaseUrl</c> when set (media may be served from elsewhere), else the site's.</summary>
    public string BaseUrl => webhooks.Value.PublicBaseUrl is { Length: > 0 } media ? media : SiteBaseUrl;

    private string ListenAddress =>
        server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://[::]", "://localhost")
        ?? "http://localhost:5080";
}

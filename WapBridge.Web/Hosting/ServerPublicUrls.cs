using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Webhooks;

namespace WapBridge.Web.Hosting;

/// <summary>The configured public URL, else the first address Kestrel listens on.</summary>
public sealed class ServerPublicUrls(IServer server, IOptions<WebhookOptions> options) : IPublicUrls
{
    public string BaseUrl =>
        options.Value.PublicBaseUrl
        ?? server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://[::]", "://localhost")
        ?? "http://localhost:5080";
}

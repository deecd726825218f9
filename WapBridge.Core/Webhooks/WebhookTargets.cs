using System.Net;
using System.Net.Sockets;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;

namespace WapBridge.Core.Webhooks;

/// <summary>
/// Keeps webhooks from being aimed at the server's own network: loopback, private, link-local and
/// other non-public addresses are refused unless configuration allows them. Checked on the address
/// actually connected to, so a DNS name that later resolves inwards is caught too.
/// </summary>
public static class WebhookTargets
{
    public static Uri ParseUrl(string? url, string field = "url")
    {
        if (string.IsNullOrWhiteSpace(url))
            throw WapBridgeException.Missing(field);
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw WapBridgeException.Invalid(field, "invalid_url", $"{field} must be an absolute http:// or https:// URL");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw WapBridgeException.Invalid(field, "invalid_url", $"{field} must not carry credentials; use the webhook secret instead");
        return uri;
    }

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.None))
            return false;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast);
        var b = address.GetAddressBytes();
        return !(b[0] == 10 || b[0] == 127 || b[0] == 0
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
            || b[0] >= 224);
    }

    public static bool IsAllowed(IPAddress address, WebhookOptions options) =>
        options.AllowPrivateTargets || IsPublic(address) || (options.AllowLoopbackTargets && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));

    /// <summary>A connect callback for SocketsHttpHandler that refuses addresses the options do not allow.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(Func<WebhookOptions> options, OutboundConnector connector) =>
        async (context, ct) =>
        {
            var addresses = await connector.ResolveAsync(context.DnsEndPoint.Host, ct);
            var allowed = addresses.Where(a => IsAllowed(a, options())).ToArray();
            if (allowed.Length == 0)
                throw new HttpRequestException($"webhook target {context.DnsEndPoint.Host} resolves only to private or loopback addresses (WapBridge:Webhooks:AllowPrivateTargets / AllowLoopbackTargets allow them)");
            return await connector.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
        };
}

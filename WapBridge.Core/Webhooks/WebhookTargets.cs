using System.Net;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;

namespace WapBridge.Core.Webhooks;

/// <summary>
/// Keeps webhooks from being aimed at the server's own network: loopback, private and every other special-purpose
/// address (the IANA IPv4 and IPv6 special-purpose registries, IPv4 inside IPv6, the host's own addresses) are refused
/// unless configuration allows them. Checked on the address actually connected to, so a DNS name that resolves
/// inwards, now or later, is caught too.
/// </summary>
public static class WebhookTargets
{
    /// <summary>The stored URL's column size.</summary>
    public const int MaxUrlLength = 2000;

    public const int MinSecretLength = 16, MaxSecretLength = 256;

    /// <summary>What a tenant is told when the target's address is refused; the same whatever the address, so it reveals nothing about the network.</summary>
    public const string RefusedMessage = "The webhook target was refused: it is not a public address (loopback, private and reserved addresses are blocked).";

    public static Uri ParseUrl(string? url, string field = "url")
    {
        if (string.IsNullOrWhiteSpace(url))
            throw WapBridgeException.Missing(field);
        url = url.Trim();
        if (url.Length > MaxUrlLength)
            throw WapBridgeException.Invalid(field, "too_long", $"{field} must be at most {MaxUrlLength} characters");
        // Uri would quietly drop or escape these; a URL that needs them is a typo or an attempt to smuggle something.
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw WapBridgeException.Invalid(field, "invalid_url", $"{field} must not contain spaces or control characters; percent-encode them");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
            throw WapBridgeException.Invalid(field, "invalid_url", $"{field} must be an absolute http:// or https:// URL");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw WapBridgeException.Invalid(field, "invalid_url", $"{field} must not carry credentials; use the webhook secret instead");
        if (uri.AbsoluteUri.Length > MaxUrlLength)
            throw WapBridgeException.Invalid(field, "too_long", $"{field} must be at most {MaxUrlLength} characters once encoded");
        return uri;
    }

    /// <summary>
    /// A secret travels in the <c>X-Wapbridge-Secret</c> header, so it must be a header value that survives intact:
    /// printable ASCII, spaces only inside. Generated secrets (<c>whsec_</c> + base64) always are.
    /// </summary>
    public static void ValidateSecret(string secret, string field = "secret")
    {
        if (secret.Length < MinSecretLength)
            throw WapBridgeException.Invalid(field, "secret_too_short", $"{field} must be at least {MinSecretLength} characters (or ask for a generated one)");
        if (secret.Length > MaxSecretLength)
            throw WapBridgeException.Invalid(field, "too_long", $"{field} must be at most {MaxSecretLength} characters");
        if (secret.Any(c => c is < ' ' or > '~'))
            throw WapBridgeException.Invalid(field, "invalid_secret",
                $"{field} may contain only printable ASCII characters (letters, digits, punctuation, inner spaces): no line breaks, tabs, control or non-ASCII characters");
        if (secret[0] == ' ' || secret[^1] == ' ')
            throw WapBridgeException.Invalid(field, "invalid_secret", $"{field} must not start or end with a space (HTTP drops it from the header)");
    }

    /// <summary>True when <paramref name="secret"/> can be sent as a header value at all (legacy secrets were stored unchecked).</summary>
    public static bool IsSendable(string secret) => secret.All(c => c is (>= ' ' and <= '~') or '\t');

    /// <summary>Classifies an address; <paramref name="ownAddresses"/> are the host's interface addresses (see <see cref="HostAddresses"/>).</summary>
    public static TargetKind Classify(IPAddress address, IReadOnlySet<IPAddress>? ownAddresses = null) => OutboundTargets.Classify(address, ownAddresses);

    public static bool IsAllowed(IPAddress address, WebhookOptions options, IReadOnlySet<IPAddress>? ownAddresses = null) =>
        OutboundTargets.IsAllowed(address, Policy(options), ownAddresses);

    /// <summary>The address a URL's host is written as, without any DNS lookup; "localhost" names count as loopback.</summary>
    public static IPAddress? LiteralAddress(Uri uri) => OutboundTargets.LiteralAddress(uri);

    /// <summary>The shared connect-time check (<see cref="OutboundTargets.ConnectCallback"/>) under the webhook settings.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(Func<WebhookOptions> options,
        OutboundConnector connector) =>
        OutboundTargets.ConnectCallback(() => Policy(options()), connector, host => new WebhookTargetRefusedException(host));

    private static OutboundTargetPolicy Policy(WebhookOptions options) =>
        new() { AllowLoopbackTargets = options.AllowLoopbackTargets, AllowPrivateTargets = options.AllowPrivateTargets };
}

/// <summary>A webhook target whose addresses are all refused; thrown before any connection is attempted.</summary>
public sealed class WebhookTargetRefusedException(string host)
    : TargetRefusedException($"webhook target {host} resolves only to addresses that are not allowed (WapBridge:Webhooks:AllowPrivateTargets / AllowLoopbackTargets allow private and loopback ones)");

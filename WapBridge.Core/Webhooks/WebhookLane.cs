using Microsoft.AspNetCore.DataProtection;

namespace WapBridge.Core.Webhooks;

/// <summary>One endpoint's deliveries held on this node, in claim order.</summary>
internal sealed class WebhookLane(int endpointId, int customerId)
{
    public int EndpointId { get; } = endpointId;
    public int CustomerId { get; } = customerId;
    public ClaimedEndpoint? Endpoint;
    public readonly Queue<WebhookDelivery> Waiting = new();
    public int InFlight;

    /// <summary>Attempts that ended but are not committed yet: the lane, and what it learnt (a 410), outlives them.</summary>
    public int Unrecorded;

    /// <summary>When the lane last got a slot, for round-robin.</summary>
    public long Turn;

    /// <summary>Its receiver answered the last attempt quickly, so the lane may hold many deliveries and burst.</summary>
    public bool Quick;

    public int Held => Waiting.Count + InFlight;
}

/// <summary>An endpoint as this node last read it; <c>GoneAt</c> is set when one of its deliveries got 410, so the rest are not sent.</summary>
internal sealed class ClaimedEndpoint(WebhookEndpoint endpoint, string? secret, bool secretUnreadable)
{
    public WebhookEndpoint Endpoint { get; } = endpoint;
    public string? Secret { get; } = secret;
    public bool SecretUnreadable { get; } = secretUnreadable;
    public DateTimeOffset? GoneAt;

    /// <summary>The endpoint as just read, keeping the decrypted secret when it did not change and a 410 it answered since its last save.</summary>
    public static ClaimedEndpoint Read(ClaimedEndpoint? previous, WebhookEndpoint endpoint, IDataProtector secrets)
    {
        string? secret = null;
        var unreadable = false;
        if (previous is not null && previous.Endpoint.SecretProtected == endpoint.SecretProtected)
            (secret, unreadable) = (previous.Secret, previous.SecretUnreadable);
        else if (endpoint.SecretProtected is not null)
        {
            try
            {
                secret = secrets.Unprotect(endpoint.SecretProtected);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                unreadable = true;
            }
        }
        return new ClaimedEndpoint(endpoint, secret, unreadable)
        {
            GoneAt = previous?.GoneAt is { } gone && endpoint.UpdatedAt <= gone ? gone : null,
        };
    }
}

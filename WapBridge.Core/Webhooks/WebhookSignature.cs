using System.Security.Cryptography;
using System.Text;

namespace WapBridge.Core.Webhooks;

/// <summary>Standard Webhooks signing: <c>v1,</c> + base64(HMAC-SHA256(secret, "id.timestamp.body")).</summary>
public static class WebhookSignature
{
    public static string Sign(string secret, string webhookId, long timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{webhookId}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
}

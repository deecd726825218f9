using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;

namespace WapBridge.Core.Webhooks;

public sealed record MediaLinkTarget(string Hash, string MimeType, string? FileName);

/// <summary>Signed, expiring download links for stored media (<c>media.url</c> in webhooks).</summary>
public sealed class MediaLinks(IDataProtectionProvider dataProtection, IPublicUrls urls, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const string PathPrefix = "/media/";

    private readonly ITimeLimitedDataProtector _protector =
        dataProtection.CreateProtector("WapBridge.Webhooks.MediaLinks").ToTimeLimitedDataProtector();

    public string Create(MediaLinkTarget target)
    {
        var plain = string.Join('\n', target.Hash, target.MimeType, target.FileName ?? "");
        var token = _protector.Protect(Encoding.UTF8.GetBytes(plain), time.GetUtcNow() + options.Value.MediaUrlLifetime);
        return urls.BaseUrl.TrimEnd('/') + PathPrefix + WebEncoders.Base64UrlEncode(token);
    }

    /// <summary>The media a token points at, or null when it is forged or expired.</summary>
    public MediaLinkTarget? Resolve(string token)
    {
        try
        {
            var plain = Encoding.UTF8.GetString(_protector.Unprotect(WebEncoders.Base64UrlDecode(token), out _)).Split('\n');
            return plain.Length == 3 ? new MediaLinkTarget(plain[0], plain[1], plain[2].Length == 0 ? null : plain[2]) : null;
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException)
        {
            return null;
        }
    }
}

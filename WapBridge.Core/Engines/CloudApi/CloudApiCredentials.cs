using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using System.Text.Json.Serialization;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// What a Cloud API instance needs from Meta (contract §11 <c>create_instance</c> argument <c>cloudapi</c>), kept as
/// the instance's encrypted engine credentials: the token and app secret are never shown again.
/// <see cref="VerifyToken"/> is ours: Meta's app echoes it in the webhook verification handshake.
/// </summary>
public sealed record CloudApiCredentials(
    [property: JsonPropertyName("phone_number_id")] string PhoneNumberId,
    [property: JsonPropertyName("business_account_id")] string BusinessAccountId,
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("app_secret")] string AppSecret,
    [property: JsonPropertyName("verify_token")] string VerifyToken)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The stored credentials, or null when there are none or they are not a Cloud API instance's.</summary>
    public static CloudApiCredentials? FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
            return null;
        try
        {
            return JsonSerializer.Deserialize<CloudApiCredentials>(json) is { PhoneNumberId: { Length: > 0 }, AccessToken: { Length: > 0 } } c ? c : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The credentials sealed on an instance (<c>Instance.EngineCredentials</c>), or null when there are none or they
    /// cannot be decrypted (logged: a lost data protection key leaves the instance unable to reach Meta).
    /// </summary>
    public static CloudApiCredentials? Unseal(IDataProtector protector, string? sealedValue, string instanceCode, ILogger logger)
    {
        if (sealedValue is null)
            return null;
        try
        {
            return FromJson(protector.Unprotect(sealedValue));
        }
        catch (CryptographicException e)
        {
            logger.LogError(e, "The Cloud API credentials of instance {Instance} cannot be decrypted (a lost data protection key?)", instanceCode);
            return null;
        }
    }

    // Never print the token or the secret (records print every property).
    public override string ToString() => $"CloudApiCredentials {{ PhoneNumberId = {PhoneNumberId}, BusinessAccountId = {BusinessAccountId} }}";
}

using WapBridge.Core.Common;
using WapBridge.Core.Engines.CloudApi;

namespace WapBridge.Web.Components.Pages.Instances;

/// <summary>What the New instance dialog collects for a WhatsApp Cloud API instance, as the user typed it.</summary>
public sealed class CloudApiForm
{
    /// <summary>The dashboard's label of each API argument of the <c>cloudapi</c> object (errors say what the user sees).</summary>
    public static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["cloudapi.phone_number_id"] = "Phone number ID",
        ["cloudapi.business_account_id"] = "WhatsApp Business Account ID",
        ["cloudapi.access_token"] = "Access token",
        ["cloudapi.app_secret"] = "App secret",
        ["cloudapi.verify_token"] = "Verify token",
    };

    public string? PhoneNumberId { get; set; }
    public string? BusinessAccountId { get; set; }
    public string? AccessToken { get; set; }
    public string? AppSecret { get; set; }
    public string? VerifyToken { get; set; }

    public CloudApiInstanceRequest ToRequest() => new(PhoneNumberId?.Trim(), BusinessAccountId?.Trim(), AccessToken?.Trim(), AppSecret?.Trim(),
        string.IsNullOrWhiteSpace(VerifyToken) ? null : VerifyToken.Trim());

    /// <summary>Whether the error is about one of these fields, so it is shown under that field rather than below the form.</summary>
    public static bool IsFieldError(WapBridgeException? error) =>
        error?.Field is { } field && field.StartsWith("cloudapi.", StringComparison.Ordinal) && Labels.ContainsKey(field);
}

using System.Globalization;

namespace WapBridge.Core.Instances;

/// <summary>What the instance does after WhatsApp closed its connection with a code.</summary>
/// <param name="State"><see cref="InstanceState.Disconnected"/> or <see cref="InstanceState.LoggedOut"/> (credentials void).</param>
/// <param name="Reconnect">Whether the host reconnects (with its backoff) right away.</param>
/// <param name="BannedFor">A temporary ban: no reconnect before this much time passed, then one.</param>
public sealed record CloseDecision(InstanceState State, string Reason, bool Reconnect, TimeSpan? BannedFor = null)
{
    public bool LoggedOut => State == InstanceState.LoggedOut;

    /// <summary>The engine's own words, when the reason replaces them with plain ones (kept in logs and the state history).</summary>
    public string? Detail { get; init; }
}

/// <summary>
/// Close codes (WhatsApp's stream errors and login failures, as every engine reports them) to instance state
/// (contract §12). Only codes that say "try again" reconnect; the others end in a state with its reason, so no
/// instance loops reconnecting into a ban or a dead session.
/// </summary>
public static class CloseCodePolicy
{
    public const string Banned = "banned";

    /// <summary>How the reasons of 403 (WhatsApp locked the account) and 406 (WhatsApp banned it) begin: the health score reads them.</summary>
    public const string AccountLocked = "WhatsApp refused this account";
    public const string AccountEnded = "WhatsApp ended this session";

    /// <summary>The reason shown when the server's network, not WhatsApp, failed the connection.</summary>
    public const string Unreachable = "This server cannot reach WhatsApp: check its internet connection, DNS or proxy.";

    // Node's system and TLS error codes that mean the connection never reached WhatsApp (or was cut on the way).
    private static readonly string[] NetworkCodes =
    [
        "ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN",
        "ECONNRESET", "ECONNABORTED", "EPIPE", "EPROTO", "UND_ERR_CONNECT_TIMEOUT",
    ];

    // What the WebSocket client says when the connection failed before WhatsApp answered: an HTTP answer to the
    // upgrade (a proxy or captive portal), a handshake that timed out, a certificate that does not check.
    private static readonly string[] NetworkPhrases =
    [
        "Unexpected server response", "Opening handshake has timed out", "WebSocket was closed before the connection was established",
        "getaddrinfo", "self-signed certificate", "self signed certificate", "socket hang up", "Client network socket disconnected",
    ];

    /// <summary>How long a temporary ban is assumed to last when WhatsApp does not say.</summary>
    public static readonly TimeSpan DefaultBan = TimeSpan.FromHours(24);

    /// <param name="code">The status code, when known.</param>
    /// <param name="name">The engine's name for it (Baileys' <c>DisconnectReason</c>), when known.</param>
    /// <param name="error">The engine's error text.</param>
    /// <param name="expireSeconds">A 402 failure's <c>expire</c> attribute: how long the ban lasts.</param>
    /// <param name="systemCode">The network error code under the close (Node's <c>ENOTFOUND</c>, a TLS code), when known.</param>
    public static CloseDecision Decide(int? code, string? name = null, string? error = null, long? expireSeconds = null, string? systemCode = null)
    {
        var detail = string.Join(", ", new[] { code?.ToString(CultureInfo.InvariantCulture), name, error, systemCode }.Where(s => !string.IsNullOrEmpty(s)).Distinct());
        var suffix = detail.Length > 0 ? $" ({detail})" : "";
        // Checked before the codes: a proxy answering the WebSocket upgrade with 403 is not WhatsApp refusing the account.
        if (IsUnreachable(systemCode, error))
            return new(InstanceState.Disconnected, Unreachable, true) { Detail = detail };
        switch (code)
        {
            case 401:
                return new(InstanceState.LoggedOut, "logged out from the phone", false);
            case 402:
                var bannedFor = expireSeconds is > 0 ? TimeSpan.FromSeconds(expireSeconds.Value) : DefaultBan;
                return new(InstanceState.Disconnected, Banned, false, bannedFor);
            case 403:
                return new(InstanceState.LoggedOut, $"{AccountLocked} (forbidden{(error is null ? "" : ": " + error)}); check the phone, then pair again", false);
            case 406:
                return new(InstanceState.LoggedOut, $"{AccountEnded} for an unknown reason{suffix}; pair again", false);
            case 411:
                return new(InstanceState.Disconnected, $"WhatsApp reported a multi-device mismatch{suffix}; unlink the device on the phone and pair again", false);
            case 440:
                return new(InstanceState.Disconnected, "another WhatsApp Web client took over this session (conflict); restart the instance to take it back", false);
            case 405:
                return new(InstanceState.Disconnected,
                    $"WhatsApp refused the connection, most likely because the WhatsApp Web version is outdated{suffix}; set the WhatsApp Web version (or update the bridge) and restart the instance", false);
        }
        if (name == "loggedOut")
            return new(InstanceState.LoggedOut, "logged out from the phone", false);
        return new(InstanceState.Disconnected, $"connection closed{suffix}; reconnecting", true);
    }

    /// <summary>
    /// Whether a connection failure came from the server's network (DNS, refused or cut connection, TLS, a proxy) rather
    /// than from WhatsApp: Baileys reports those as <c>WebSocket Error (…)</c> with Node's error code in the close data.
    /// </summary>
    public static bool IsUnreachable(string? systemCode, string? error)
    {
        if (!string.IsNullOrEmpty(systemCode)
            && (NetworkCodes.Contains(systemCode, StringComparer.OrdinalIgnoreCase)
                || systemCode.StartsWith("ERR_TLS_", StringComparison.OrdinalIgnoreCase)
                || systemCode.StartsWith("ERR_SSL_", StringComparison.OrdinalIgnoreCase)
                || systemCode.StartsWith("UNABLE_TO_", StringComparison.OrdinalIgnoreCase)
                || systemCode.Contains("CERT", StringComparison.OrdinalIgnoreCase)))
            return true;
        if (string.IsNullOrEmpty(error))
            return false;
        return NetworkCodes.Any(c => error.Contains(c, StringComparison.Ordinal))
            || NetworkPhrases.Any(p => error.Contains(p, StringComparison.OrdinalIgnoreCase));
    }
}

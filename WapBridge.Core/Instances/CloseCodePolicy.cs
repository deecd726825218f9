using System.Globalization;

namespace WapBridge.Core.Instances;

/// <summary>What the instance does after WhatsApp closed its connection with a code.</summary>
/// <param name="State"><see cref="InstanceStates.Disconnected"/> or <see cref="InstanceStates.LoggedOut"/> (credentials void).</param>
/// <param name="Reconnect">Whether the host reconnects (with its backoff) right away.</param>
/// <param name="BannedFor">A temporary ban: no reconnect before this much time passed, then one.</param>
public sealed record CloseDecision(string State, string Reason, bool Reconnect, TimeSpan? BannedFor = null)
{
    public bool LoggedOut => State == InstanceStates.LoggedOut;
}

/// <summary>
/// Close codes (WhatsApp's stream errors and login failures, as every engine reports them) to instance state
/// (contract §12). Only codes that say "try again" reconnect; the others end in a state with its reason, so no
/// instance loops reconnecting into a ban or a dead session.
/// </summary>
public static class CloseCodePolicy
{
    public const string Banned = "banned";

    /// <summary>How long a temporary ban is assumed to last when WhatsApp does not say.</summary>
    public static readonly TimeSpan DefaultBan = TimeSpan.FromHours(24);

    /// <param name="code">The status code, when known.</param>
    /// <param name="name">The engine's name for it (Baileys' <c>DisconnectReason</c>), when known.</param>
    /// <param name="error">The engine's error text.</param>
    /// <param name="expireSeconds">A 402 failure's <c>expire</c> attribute: how long the ban lasts.</param>
    public static CloseDecision Decide(int? code, string? name = null, string? error = null, long? expireSeconds = null)
    {
        var detail = string.Join(", ", new[] { code?.ToString(CultureInfo.InvariantCulture), name, error }.Where(s => !string.IsNullOrEmpty(s)).Distinct());
        var suffix = detail.Length > 0 ? $" ({detail})" : "";
        switch (code)
        {
            case 401:
                return new(InstanceStates.LoggedOut, "logged out from the phone", false);
            case 402:
                var bannedFor = expireSeconds is > 0 ? TimeSpan.FromSeconds(expireSeconds.Value) : DefaultBan;
                return new(InstanceStates.Disconnected, Banned, false, bannedFor);
            case 403:
                return new(InstanceStates.LoggedOut, $"WhatsApp refused this account (forbidden{(error is null ? "" : ": " + error)}); check the phone, then pair again", false);
            case 406:
                return new(InstanceStates.LoggedOut, $"WhatsApp ended this session for an unknown reason{suffix}; pair again", false);
            case 411:
                return new(InstanceStates.Disconnected, $"WhatsApp reported a multi-device mismatch{suffix}; unlink the device on the phone and pair again", false);
            case 440:
                return new(InstanceStates.Disconnected, "another WhatsApp Web client took over this session (conflict); restart the instance to take it back", false);
            case 405:
                return new(InstanceStates.Disconnected,
                    $"WhatsApp refused the connection, most likely because the WhatsApp Web version is outdated{suffix}; set the WhatsApp Web version (or update the bridge) and restart the instance", false);
        }
        if (name == "loggedOut")
            return new(InstanceStates.LoggedOut, "logged out from the phone", false);
        return new(InstanceStates.Disconnected, $"connection closed{suffix}; reconnecting", true);
    }
}

using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>The engine-agnostic decisions of the send path: close codes to instance states, send errors to outbox actions.</summary>
[Trait("Category", "Unit")]
public sealed class SendPolicyTests
{
    [Theory]
    [InlineData(401, "logged_out", false)]
    [InlineData(402, "disconnected", false)]
    [InlineData(403, "logged_out", false)]
    [InlineData(405, "disconnected", false)]
    [InlineData(406, "logged_out", false)]
    [InlineData(411, "disconnected", false)]
    [InlineData(440, "disconnected", false)]
    [InlineData(408, "disconnected", true)]
    [InlineData(428, "disconnected", true)]
    [InlineData(500, "disconnected", true)]
    [InlineData(503, "disconnected", true)]
    [InlineData(515, "disconnected", true)]
    public void Close_codes_map_to_a_state_and_whether_to_reconnect(int code, string state, bool reconnect)
    {
        var decision = CloseCodePolicy.Decide(code, error: "Connection Failure");
        Assert.Equal(state, decision.State.ToWire());
        Assert.Equal(reconnect, decision.Reconnect);
        Assert.Equal(code == 402, decision.BannedFor is not null);
    }

    [Fact]
    public void A_temporary_ban_says_banned_and_lasts_what_WhatsApp_said_or_a_day()
    {
        var told = CloseCodePolicy.Decide(402, expireSeconds: 7200);
        Assert.Equal(CloseCodePolicy.Banned, told.Reason);
        Assert.Equal(TimeSpan.FromHours(2), told.BannedFor);
        Assert.Equal(TimeSpan.FromHours(24), CloseCodePolicy.Decide(402).BannedFor);
        Assert.Equal(TimeSpan.FromHours(24), CloseCodePolicy.Decide(402, expireSeconds: 0).BannedFor);
    }

    [Fact]
    public void Reasons_name_the_cause_and_the_fix()
    {
        Assert.Contains("forbidden: blocked", CloseCodePolicy.Decide(403, error: "blocked").Reason);
        Assert.Contains("pair again", CloseCodePolicy.Decide(406).Reason);
        Assert.Contains("multi-device mismatch", CloseCodePolicy.Decide(411).Reason);
        Assert.Contains("reconnecting", CloseCodePolicy.Decide(428, error: "Connection Closed").Reason);
        Assert.True(CloseCodePolicy.Decide(null, name: "loggedOut").LoggedOut);
    }

    // As Baileys reports them: its WebSocket error (getCodeFromWSError: 408 for Node's E* codes and timeouts, the HTTP
    // status of an answered upgrade, else 500) with Node's error code in the close data.
    [Theory]
    [InlineData(408, "WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)", "ENOTFOUND")]
    [InlineData(408, "WebSocket Error (getaddrinfo EAI_AGAIN web.whatsapp.com)", "EAI_AGAIN")]
    [InlineData(408, "WebSocket Error (connect ECONNREFUSED 127.0.0.1:443)", "ECONNREFUSED")]
    [InlineData(408, "WebSocket Error (connect ETIMEDOUT 157.240.0.53:443)", "ETIMEDOUT")]
    [InlineData(408, "WebSocket Error (connect ENETUNREACH 157.240.0.53:443)", "ENETUNREACH")]
    [InlineData(408, "WebSocket Error (Opening handshake has timed out)", null)]
    [InlineData(408, "WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)", null)]
    [InlineData(500, "WebSocket Error (self-signed certificate in certificate chain)", "SELF_SIGNED_CERT_IN_CHAIN")]
    [InlineData(408, "WebSocket Error (Hostname/IP does not match certificate's altnames)", "ERR_TLS_CERT_ALTNAME_INVALID")]
    [InlineData(500, "WebSocket Error (unable to verify the first certificate)", "UNABLE_TO_VERIFY_LEAF_SIGNATURE")]
    [InlineData(403, "WebSocket Error (Unexpected server response: 403)", null)]
    [InlineData(502, "WebSocket Error (Unexpected server response: 502)", null)]
    public void A_network_failure_says_the_server_cannot_reach_WhatsApp_and_keeps_retrying(int code, string error, string? systemCode)
    {
        var decision = CloseCodePolicy.Decide(code, "timedOut", error, systemCode: systemCode);
        Assert.Equal(CloseCodePolicy.Unreachable, decision.Reason);
        Assert.Equal(InstanceState.Disconnected, decision.State);
        Assert.True(decision.Reconnect);
        Assert.False(decision.LoggedOut); // a proxy's 403 is not WhatsApp refusing the account
        Assert.Contains(error, decision.Detail);
    }

    [Theory]
    [InlineData(428, "Connection Closed")]
    [InlineData(408, "QR refs attempts ended")]
    [InlineData(500, "Stream Errored (unknown)")]
    [InlineData(403, "Connection Failure")]
    public void WhatsApps_own_closes_are_not_network_failures(int code, string error)
    {
        Assert.NotEqual(CloseCodePolicy.Unreachable, CloseCodePolicy.Decide(code, error: error).Reason);
        Assert.False(CloseCodePolicy.IsUnreachable(null, error));
    }

    [Theory]
    [InlineData("463", SendFailureAction.Hold)]
    [InlineData("408", SendFailureAction.Retry)]
    [InlineData("428", SendFailureAction.Retry)]
    [InlineData("503", SendFailureAction.Retry)]
    [InlineData("not_connected", SendFailureAction.Retry)]
    [InlineData("timeout", SendFailureAction.Retry)]
    [InlineData("number_check_failed", SendFailureAction.Retry)]
    [InlineData("479", SendFailureAction.Fail)]
    [InlineData("not_on_whatsapp", SendFailureAction.Fail)]
    [InlineData("send_failed", SendFailureAction.Fail)]
    [InlineData(null, SendFailureAction.Fail)]
    public void Send_errors_map_to_fail_retry_or_hold(string? code, SendFailureAction action)
    {
        var decision = SendFailurePolicy.Decide(code);
        Assert.Equal(action, decision.Action);
        Assert.Equal(action == SendFailureAction.Hold ? SendFailurePolicy.AccountRestricted : null, decision.HoldReason);
    }

    [Fact]
    public void Transient_failures_are_retried_soon_then_at_most_once_a_minute()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), SendFailurePolicy.RetryDelay(1));
        Assert.True(SendFailurePolicy.RetryDelay(2) > SendFailurePolicy.RetryDelay(1));
        Assert.Equal(TimeSpan.FromMinutes(1), SendFailurePolicy.RetryDelay(50));
        Assert.Equal(TimeSpan.FromSeconds(2), SendFailurePolicy.RetryDelay(0));
    }
}

using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>The engine-agnostic decisions of the send path: close codes to instance states, send errors to outbox actions.</summary>
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
        Assert.Equal(state, decision.State);
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
        Assert.Contains("reconnecting", CloseCodePolicy.Decide(null, error: "getaddrinfo ENOTFOUND x.invalid").Reason);
        Assert.True(CloseCodePolicy.Decide(null, name: "loggedOut").LoggedOut);
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

using System.Diagnostics;

namespace WapBridge.Core.Telemetry;

/// <summary>
/// The spans WapBridge starts on <see cref="WapBridgeTelemetry.Source"/> and the tags they carry. Tags name things by
/// their codes and row ids only: never a phone number, a message's text, a URL or a secret.
/// </summary>
public static class TraceNames
{
    /// <summary>The outbox sending one message, a child of the trace that accepted it (<c>Message.TraceParent</c>).</summary>
    public const string MessageSend = "message.send";

    /// <summary>The engine's part of <see cref="MessageSend"/>.</summary>
    public const string EngineSend = "engine.send";

    /// <summary>An inbound message from the engine until it (and its webhook delivery) is stored.</summary>
    public const string MessageReceive = "message.receive";

    /// <summary>One attempt of one webhook delivery, a child of the work that caused it (<c>WebhookDelivery.TraceParent</c>).</summary>
    public const string WebhookDeliver = "webhook.deliver";

    /// <summary>A dashboard user's send: its own trace, not the long-lived connection the dashboard runs in.</summary>
    public const string DashboardSend = "dashboard.send";

    /// <summary>A campaign runner's batch of sends.</summary>
    public const string CampaignSend = "campaign.send";

    public const string InstanceTag = "instance_id";
    public const string CampaignTag = "campaign";
    public const string EngineTag = "engine";
    public const string MessageTag = "wapbridge.message.row_id";
    public const string DeliveryTag = "wapbridge.webhook.delivery_id";
    public const string EventTag = "wapbridge.webhook.event";
    public const string AttemptTag = "wapbridge.webhook.attempt";
    public const string StatusCodeTag = "http.response.status_code";
    public const string OutcomeTag = "outcome";
    public const string ErrorCodeTag = "error_code";
    public const string CountTag = "wapbridge.messages";

    /// <summary>Records how the work ended; a failure also marks the span as an error, with the stored error code.</summary>
    public static void SetOutcome(this Activity? activity, string outcome, string? errorCode = null, bool failed = false)
    {
        if (activity is null)
            return;
        activity.SetTag(OutcomeTag, outcome);
        if (errorCode is not null)
            activity.SetTag(ErrorCodeTag, errorCode);
        if (failed)
            activity.SetStatus(ActivityStatusCode.Error, errorCode ?? outcome);
    }
}

using Orleans.Concurrency;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;

namespace WapBridge.Core.Instances;

/// <summary>
/// One WhatsApp instance as an actor (keyed by its code): the only owner of its engine session, wherever in the
/// cluster it lives. The API, the dashboard, the outbox and the campaign runner of every node reach the session
/// through it.
/// </summary>
[Alias("wapbridge.instance")]
public interface IInstanceGrain : IGrainWithStringKey
{
    /// <summary>Opens (or reopens) the session: it connects with stored credentials or starts pairing.</summary>
    [Alias("open")]
    Task OpenAsync();

    /// <summary>Opens the session if the instance should be connected and none is open (start-up, fail-over); else nothing.</summary>
    /// <returns>Whether a session was opened now.</returns>
    [Alias("resume")]
    Task<bool> ResumeAsync();

    /// <summary>Closes the session without logging out: the credentials stay for the next open.</summary>
    [Alias("close")]
    Task CloseAsync();

    [Alias("logout")]
    Task LogoutAsync();

    /// <summary>Starts the pending reconnect attempt now; false when none is pending.</summary>
    [Alias("retry-now")]
    Task<bool> RetryNowAsync();

    [Alias("live")]
    Task<InstanceLive> GetLiveAsync();

    [Alias("pairing-code")]
    Task<string> RequestPairingCodeAsync(string phoneNumber);

    /// <summary>Reads the instance again after a change made outside its session, and tells listeners.</summary>
    [Alias("reload")]
    Task ReloadAsync();

    /// <summary>WhatsApp restricted the number (a send got 463) until <paramref name="until"/>.</summary>
    [Alias("restricted")]
    Task ReportRestrictionAsync(DateTimeOffset until, string detail);

    /// <summary>Something was queued for the instance: its outbox looks now, on the node where it lives.</summary>
    [Alias("wake-outbox"), OneWay]
    Task WakeOutboxAsync();

    /// <summary>Marks received messages read; 409 when the instance is not connected or its engine cannot.</summary>
    [Alias("mark-read")]
    Task MarkReadAsync(IReadOnlyList<EngineMessageKey> keys);

    [Alias("presence")]
    Task SendPresenceAsync(string toJid, string state);

    [Alias("delete-for-me")]
    Task DeleteForMeAsync(EngineMessageKey key, DateTimeOffset sentAt);

    /// <summary>Asks WhatsApp about the numbers (digits); one answer per number, in order, null where the engine cannot tell.</summary>
    [Alias("check-numbers")]
    Task<IReadOnlyList<NumberCheckResult?>> CheckNumbersAsync(IReadOnlyList<string> phones);

    /// <summary>A user's profile (<paramref name="user"/>: digits or <c>…@lid</c>); 409 EngineFeatureUnavailable on engines without profiles.</summary>
    [Alias("profile")]
    Task<EngineProfile> GetProfileAsync(string user);

    // Groups (contract §9): 409 EngineFeatureUnavailable on engines without groups, 404 for a group the account is not in.

    [Alias("groups")]
    Task<IReadOnlyList<EngineGroup>> ListGroupsAsync();

    [Alias("group")]
    Task<EngineGroup> GetGroupAsync(string groupJid);

    [Alias("group-create")]
    Task<EngineGroup> CreateGroupAsync(string subject, IReadOnlyList<string> participants);

    [Alias("group-participants")]
    Task<IReadOnlyList<EngineParticipantOutcome>> UpdateGroupParticipantsAsync(string groupJid, string action, IReadOnlyList<string> participants);

    [Alias("group-update")]
    Task UpdateGroupAsync(string groupJid, EngineGroupChange change);

    [Alias("group-invite")]
    Task<string> GetGroupInviteCodeAsync(string groupJid);

    [Alias("group-invite-revoke")]
    Task<string> RevokeGroupInviteCodeAsync(string groupJid);

    /// <summary>Joins by invite code; answers the group's id.</summary>
    [Alias("group-join")]
    Task<string> JoinGroupAsync(string inviteCode);

    [Alias("group-leave")]
    Task LeaveGroupAsync(string groupJid);

    /// <summary>Meta's callbacks for this Cloud API instance wait to be processed: its live session processes them, in the background.</summary>
    [Alias("cloudapi-callbacks"), OneWay]
    Task ProcessCloudApiCallbacksAsync();

    /// <summary>The business account's message templates (Cloud API); 409 EngineFeatureUnavailable on engines without templates.</summary>
    [Alias("templates")]
    Task<IReadOnlyList<EngineTemplate>> ListTemplatesAsync();
}

/// <summary>The simulator's phone-side actions on an instance, run where its session lives.</summary>
[Alias("wapbridge.simulated-phone")]
public interface ISimulatedPhoneGrain : IGrainWithStringKey
{
    [Alias("scan")]
    Task ScanAsync(string phoneNumber, string? pushName, IReadOnlyList<string>? contacts);

    [Alias("inject")]
    Task<string> InjectInboundAsync(SimulatedInboundCall inbound);

    [Alias("call")]
    Task<string> InjectCallAsync(SimulatedCall call);

    [Alias("presence")]
    Task InjectPresenceAsync(SimulatedPresence presence);

    [Alias("drop")]
    Task DropConnectionAsync();

    [Alias("unlink")]
    Task UnlinkFromPhoneAsync();

    /// <summary>WhatsApp's conditions for the phone changed (<c>simulator.set_conditions</c>): the session plays them from now on.</summary>
    [Alias("apply-conditions")]
    Task ApplyConditionsAsync(SimulatedConditions conditions);

    // What another of the customer's simulator instances, living on another node, does to this one. Interleaved: two
    // instances messaging each other at once must not wait on each other's actor.

    /// <summary>Another instance sent this one a message (<see cref="SimulatedInboundCall.MessageId"/>: the sender's id).</summary>
    [Alias("deliver"), AlwaysInterleave]
    Task DeliverAsync(SimulatedInboundCall inbound);

    /// <summary>A member changed one of this instance's groups.</summary>
    [Alias("group-notice"), AlwaysInterleave]
    Task GroupNoticeAsync(SimulatedGroupNotice notice);

    /// <summary>The recipient read this instance's message.</summary>
    [Alias("read-receipt"), AlwaysInterleave]
    Task ReadReceiptAsync(string messageId);
}

/// <summary>What the live session shows now: the node it lives on and the QR code it waits to be scanned with.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.instance-live")]
public sealed record InstanceLive(
    [property: Id(0)] string Node,
    [property: Id(1)] bool SessionOpen,
    [property: Id(2)] string? Qr,
    [property: Id(3)] DateTimeOffset? QrExpiresAt);

/// <summary>A simulated contact's call; <see cref="Status"/> is an engine call status (offer, timeout, reject, …).</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-call")]
public sealed record SimulatedCall([property: Id(0)] string? FromPhone, [property: Id(1)] string? FromLid, [property: Id(2)] bool Video, [property: Id(3)] string Status);

/// <summary>A simulated contact's presence (available, unavailable, composing, recording, paused).</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-presence")]
public sealed record SimulatedPresence([property: Id(0)] string? FromPhone, [property: Id(1)] string? FromLid, [property: Id(2)] string State);

/// <summary>A simulated inbound message as it crosses nodes (media as bytes).</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-inbound")]
public sealed record SimulatedInboundCall(
    [property: Id(0)] string? FromPhone,
    [property: Id(1)] string? FromLid,
    [property: Id(2)] string? Text,
    [property: Id(3)] byte[]? MediaData,
    [property: Id(4)] string? MediaMimeType,
    [property: Id(5)] string? MediaFileName,
    [property: Id(6)] string? Caption,
    [property: Id(7)] string? PushName,
    [property: Id(8)] string? GroupId,
    [property: Id(9)] string? QuotedId,
    [property: Id(10)] string? ExtrasJson = null,
    [property: Id(11)] string? MessageId = null)
{
    public static async Task<SimulatedInboundCall> FromAsync(SimulatedInbound inbound, CancellationToken ct, string? messageId = null)
    {
        byte[]? data = null;
        if (inbound.Media is { } media)
        {
            await using var content = media.OpenRead();
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, ct);
            data = copy.ToArray();
        }
        return new(inbound.FromPhone, inbound.FromLid, inbound.Text, data, inbound.Media?.MimeType, inbound.Media?.FileName,
            inbound.Caption, inbound.PushName, inbound.GroupId, inbound.QuotedId,
            inbound.Extras is null ? null : System.Text.Json.JsonSerializer.Serialize(inbound.Extras), messageId);
    }

    public SimulatedInbound ToInbound() => new(FromPhone, FromLid, Text,
        MediaData is null ? null : new Engines.EngineMedia(MediaData, MediaMimeType ?? "application/octet-stream", MediaFileName),
        Caption, PushName, GroupId, QuotedId)
    {
        Extras = ExtrasJson is null ? null : System.Text.Json.JsonSerializer.Deserialize<SimulatedExtras>(ExtrasJson),
    };
}

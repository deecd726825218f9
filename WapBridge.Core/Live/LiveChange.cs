namespace WapBridge.Core.Live;

/// <summary>What a <see cref="LiveChange"/> is about.</summary>
public static class LiveTopics
{
    /// <summary>An instance's state, QR code or details; the subject is its code.</summary>
    public const string Instance = "instance";

    /// <summary>Messages were accepted, received or walked on in status; the subject is the instance's code.</summary>
    public const string Messages = "messages";

    /// <summary>A campaign's progress or state; the subject is its code.</summary>
    public const string Campaign = "campaign";

    /// <summary>
    /// A contact's presence in a chat (typing, recording, paused, …); the subject is <c>instance|chat|state</c>
    /// (<see cref="LiveNotices.PresenceSubject"/>), so that the notice itself carries what changed.
    /// </summary>
    public const string Presence = "presence";

    /// <summary>The cluster's membership; no customer, only Admin views hear it.</summary>
    public const string Nodes = "nodes";
}

/// <summary>
/// A notice that something a dashboard shows changed, not the change itself: a subscriber re-reads what it shows.
/// <paramref name="CustomerId"/> is the owner (null: the cluster's, for Admins); <paramref name="Subject"/> is null
/// when notices were merged, meaning "anything of this topic".
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.live-change")]
public sealed record LiveChange([property: Id(0)] string Topic, [property: Id(1)] int? CustomerId, [property: Id(2)] string? Subject);

/// <summary>
/// What one subscriber wants to hear: some topics, for one customer, or for all of them (<paramref name="CustomerId"/>
/// null, an Admin view that shows everyone's).
/// </summary>
public sealed record LiveInterest(IReadOnlySet<string> Topics, int? CustomerId)
{
    public static LiveInterest ForCustomer(int customerId, params string[] topics) => new(topics.ToHashSet(StringComparer.Ordinal), customerId);

    public static LiveInterest ForAll(params string[] topics) => new(topics.ToHashSet(StringComparer.Ordinal), null);

    public bool Wants(LiveChange change) => Topics.Contains(change.Topic) && (CustomerId is null || change.CustomerId == CustomerId);
}

namespace WapBridge.Core.Campaigns;

/// <summary>Section <c>WapBridge:Campaigns</c>: defaults for campaigns that do not set their own throttle.</summary>
public sealed class CampaignOptions
{
    public const string Section = "WapBridge:Campaigns";

    public double MinDelaySeconds { get; set; } = 10;
    public double MaxDelaySeconds { get; set; } = 30;
    public int? HourlyLimit { get; set; }
    public int? DailyLimit { get; set; }

    public static readonly string[] DefaultOptOutKeywords = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ACHA"];

    /// <summary>
    /// Inbound messages that are exactly one of these (any case) put the sender on the suppression list. Unset means
    /// <see cref="DefaultOptOutKeywords"/>: a default array here would be appended to, not replaced, by
    /// <c>WAPBRIDGE_Campaigns__OptOutKeywords__0</c> (the configuration binder adds configured items to an array's).
    /// </summary>
    public string[]? OptOutKeywords { get; set; }

    public string[] EffectiveOptOutKeywords => OptOutKeywords is { Length: > 0 } custom ? custom : DefaultOptOutKeywords;

    /// <summary>Most recipients one create or add request may carry (417 above); a bigger list goes in with add_campaign_recipients.</summary>
    public int MaxRecipientsPerRequest { get; set; } = 100_000;

    /// <summary>
    /// Recipients stored per transaction. SQLite has one writer: between chunks it is let go, so other customers'
    /// sends get in while a big list is stored.
    /// </summary>
    public int InsertChunkSize { get; set; } = 5_000;

    /// <summary>A campaign still being created that stored no chunk for this long was abandoned (its process died) and is deleted.</summary>
    public TimeSpan CreationLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Longest stretch a runner job works before handing over to a fresh job (Hangfire jobs stay short).</summary>
    public TimeSpan RunnerSlice { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Spacing up to this long is waited out inside the job; longer spacing schedules a new job.</summary>
    public TimeSpan LongestInJobWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for each message's send before moving on (it stays in the outbox either way).</summary>
    public TimeSpan SendWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often overdue running campaigns are looked for and run again.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Send a campaign.progress webhook at most this often per campaign.</summary>
    public TimeSpan ProgressEvery { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most numbers a "check numbers first" campaign asks WhatsApp about at once (mass look-ups are themselves a ban signal).</summary>
    public int NumberCheckBatchSize { get; set; } = 20;

    /// <summary>Shortest time between two of an instance's campaign look-up batches.</summary>
    public TimeSpan NumberCheckPause { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest <see cref="NumberCheckBatchSize"/>: what one <c>contacts.check_numbers</c> call may carry.</summary>
    public const int MaxNumberCheckBatchSize = 500;
}

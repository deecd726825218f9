using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// What <see cref="CampaignNumberCheck.ScreenAsync"/> found: the recipients of its window that may be sent to now (in
/// order), how many of the window it failed as not on WhatsApp, and when to come back if it could not look up yet.
/// </summary>
/// <param name="Window">Pending recipients it looked at; 0 means none are left.</param>
/// <param name="WaitReason">Set when the look-up could not happen (instance gone, WhatsApp failed): the campaign shows it while it waits.</param>
public sealed record NumberScreening(IReadOnlyList<CampaignRecipient> Sendable, int Window, int Failed, DateTimeOffset? ComeBackAt, string? WaitReason)
{
    public static readonly NumberScreening NothingPending = new([], 0, 0, null, null);
}

/// <summary>
/// A campaign's "check numbers first": before the runner sends to its next pending recipients, asks WhatsApp which of
/// them have it, <see cref="CampaignOptions.NumberCheckBatchSize"/> numbers at a time and at most one batch per
/// <see cref="CampaignOptions.NumberCheckPause"/> per instance, through <see cref="NumberCheckCache"/> (answers younger
/// than a day are not asked again). A recipient without WhatsApp ends <c>failed</c> with <see cref="NotOnWhatsApp"/>, in
/// one transaction with the campaign's counters, before any message exists for it; so a killed runner's successor finds
/// it settled and looks only at what is still pending, mostly from the cache.
/// </summary>
public sealed class CampaignNumberCheck(
    NumberCheckCache cache,
    IGrainFactory grains,
    GatewayMetrics metrics,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    ILogger<CampaignNumberCheck> logger)
{
    /// <summary>The reason code of a recipient that is not on WhatsApp (contract §3).</summary>
    public const string NotOnWhatsApp = GroupParticipantStatuses.NotOnWhatsApp;

    /// <summary>A recipient's error when WhatsApp says the number has no account; the code first, as message failures read.</summary>
    public const string NotOnWhatsAppReason = NotOnWhatsApp + ": WhatsApp has no account for this number";

    /// <summary>The code of a session that lost its connection between the runner's look at the instance and the look-up.</summary>
    private const string NotConnected = "not_connected";

    /// <summary>A failed look-up is tried again after this long, as a disconnected instance is looked at again.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When each instance's next look-up batch may go. In this node's memory: a runner that moves to another node after a
    /// crash may ask one batch early, which a restart's reconnect does anyway.
    /// </summary>
    private readonly ConcurrentDictionary<int, DateTimeOffset> _nextLookup = new();

    /// <summary>
    /// Screens the campaign's next <see cref="CampaignOptions.NumberCheckBatchSize"/> pending recipients. What the cache
    /// knows is acted on without asking; only when it knows none of them is WhatsApp asked about the whole window, so a
    /// window that moves on by one recipient per send still asks in full batches.
    /// </summary>
    public async Task<NumberScreening> ScreenAsync(WapBridgeDbContext db, Campaign campaign, Instance instance, CancellationToken ct)
    {
        var window = await db.CampaignRecipients.AsNoTracking().Where(r => r.CampaignId == campaign.Id && r.State == RecipientState.Pending)
            .OrderBy(r => r.Id).Take(options.Value.NumberCheckBatchSize).ToListAsync(ct);
        if (window.Count == 0)
            return NumberScreening.NothingPending;
        var numbers = window.Select(r => r.Number!).Distinct().ToList();

        // The cache alone: its ask is handed only the numbers it does not know, and answers nothing (which it does not store).
        var unknown = new HashSet<string>();
        var answers = (await cache.CheckAsync(instance.Id, numbers, (ask, _) =>
            {
                unknown.UnionWith(ask);
                return Task.FromResult<IReadOnlyList<NumberCheckResult?>>(new NumberCheckResult?[ask.Count]);
            }, ct))
            .Where(a => !unknown.Contains(a.Key)).ToDictionary();

        if (answers.Count == 0)
        {
            var now = time.GetUtcNow();
            if (_nextLookup.TryGetValue(instance.Id, out var next) && next > now)
                return new NumberScreening([], window.Count, 0, next, null);
            _nextLookup[instance.Id] = now + options.Value.NumberCheckPause;
            try
            {
                answers = new Dictionary<string, NumberCheckResult?>(await cache.CheckAsync(instance.Id, numbers, (ask, token) =>
                {
                    CountLookups(campaign, instance, ask.Count);
                    return grains.GetGrain<IInstanceGrain>(instance.Code).CheckNumbersAsync(ask).WaitAsync(token);
                }, ct));
            }
            catch (WapBridgeException e) when (e.Kind == ErrorKind.EngineFeatureUnavailable)
            {
                // An engine that cannot look numbers up cannot tell: its recipients are sent as usual.
                answers = numbers.ToDictionary(n => n, _ => (NumberCheckResult?)null);
            }
            catch (WapBridgeException e) when (e.Kind == ErrorKind.InstanceNotConnected || e.Code == NotConnected)
            {
                return new NumberScreening([], window.Count, 0, now + RetryAfterFailure, "instance not connected: waiting for it to reconnect to check numbers");
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Never the recipients' fault: they stay pending and are asked about again.
                logger.LogWarning("Campaign {Campaign} could not check {Count} numbers with WhatsApp: {Error}", campaign.Code, numbers.Count, e.Message);
                return new NumberScreening([], window.Count, 0, now + RetryAfterFailure, $"checking numbers with WhatsApp failed ({e.Message}); trying again");
            }
        }

        var notOnWhatsApp = window.Where(r => answers.TryGetValue(r.Number!, out var a) && a is { OnWhatsApp: false })
            .Select(r => new RecipientMove(r, RecipientState.Failed, NotOnWhatsAppReason)).ToList();
        var moved = notOnWhatsApp.Count == 0 ? default : await CampaignProgress.AdvanceManyAsync(db, notOnWhatsApp, time.GetUtcNow(), ct);
        await moved.RecordAsync(metrics, campaign.InstanceId);
        var failed = moved.Total;
        if (failed > 0)
            logger.LogInformation("Campaign {Campaign}: {Count} recipients are not on WhatsApp", campaign.Code, failed);
        // An engine that cannot tell (null) is no reason to hold a recipient back: the outbox sends it as usual.
        var sendable = window.Where(r => answers.TryGetValue(r.Number!, out var a) && a is not { OnWhatsApp: false }).ToList();
        return new NumberScreening(sendable, window.Count, failed, null, null);
    }

    /// <summary>
    /// Issue #20's seam: the account-health budget counts these look-ups against the number here (and may then hold the
    /// batch back). Until it exists, each batch is logged.
    /// </summary>
    private void CountLookups(Campaign campaign, Instance instance, int numbers) =>
        logger.LogInformation("Campaign {Campaign} asks WhatsApp whether {Count} numbers have it, from {Instance}", campaign.Code, numbers, instance.Code);
}

using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;

namespace WapBridge.Core.Overview;

/// <summary>
/// The Overview's figures of one customer, every query scoped to that customer: another customer's messages, instances,
/// deliveries and campaigns never count here.
/// </summary>
public sealed class OverviewService(IDbContextFactory<WapBridgeDbContext> dbFactory, TimeProvider time)
{
    public const int WindowHours = 24;

    /// <summary>The campaigns shown: the newest active ones (running, paused or scheduled).</summary>
    public const int MaxCampaigns = 10;

    private static readonly CampaignState[] ActiveCampaigns = [CampaignState.Running, CampaignState.Paused, CampaignState.Scheduled];

    public async Task<OverviewFigures> ReadAsync(int customerId, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var currentHour = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour), TimeSpan.Zero);
        var from = currentHour.AddHours(1 - WindowHours);
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        // Times are stored as longs (the converter that lets SQLite compare them), so SQL cannot cut them into hours
        // the same way on both providers: the window's rows come back as three small columns and are bucketed here.
        var rows = await db.Messages.AsNoTracking()
            .Where(m => m.CustomerId == customerId && m.CreatedAt >= from)
            .Select(m => new { m.Direction, m.Status, m.CreatedAt })
            .ToListAsync(ct);
        var buckets = new int[WindowHours, 6];
        foreach (var row in rows)
        {
            var hour = (int)((row.CreatedAt - from).Ticks / TimeSpan.TicksPerHour);
            if (hour is < 0 or >= WindowHours)
                continue; // written after "now" was read
            buckets[hour, Column(row.Direction, row.Status)]++;
        }
        var hours = Enumerable.Range(0, WindowHours)
            .Select(h => new HourFigures(from.AddHours(h), buckets[h, 0], buckets[h, 1], buckets[h, 2], buckets[h, 3], buckets[h, 4], buckets[h, 5]))
            .ToList();
        var delivered = hours.Sum(h => h.Delivered + h.Read);
        var rates = new MessageRates(hours.Sum(h => h.Outbound), hours.Sum(h => h.Sent) + delivered, delivered, hours.Sum(h => h.Read), hours.Sum(h => h.Failed));

        return new OverviewFigures(from, now, hours, rates, await WebhooksAsync(db, customerId, from, ct), await InstancesAsync(db, customerId, ct),
            await CampaignsAsync(db, customerId, ct));
    }

    private static int Column(string direction, MessageStatus status) =>
        direction == Message.Inbound ? 5 : status switch
        {
            MessageStatus.Queued or MessageStatus.Sending => 0,
            MessageStatus.Sent => 1,
            MessageStatus.Delivered => 2,
            MessageStatus.Read or MessageStatus.Played => 3,
            MessageStatus.Failed => 4,
            _ => 5,
        };

    private static async Task<WebhookFigures> WebhooksAsync(WapBridgeDbContext db, int customerId, DateTimeOffset from, CancellationToken ct)
    {
        var deliveries = db.WebhookDeliveries.AsNoTracking().Where(d => d.CustomerId == customerId);
        var pending = await deliveries.Where(d => d.State == DeliveryState.Pending)
            .GroupBy(d => 1)
            .Select(g => new { Count = g.Count(), Retrying = g.Count(d => d.Attempts > 0), Oldest = g.Min(d => (DateTimeOffset?)d.CreatedAt) })
            .FirstOrDefaultAsync(ct);
        // A delivery keeps no time of its death: the dead among those created in the window.
        var dead = await deliveries.CountAsync(d => d.State == DeliveryState.Dead && d.CreatedAt >= from, ct);
        return new WebhookFigures(pending?.Count ?? 0, pending?.Oldest, pending?.Retrying ?? 0, dead);
    }

    private static async Task<IReadOnlyList<InstanceTile>> InstancesAsync(WapBridgeDbContext db, int customerId, CancellationToken ct)
    {
        var instances = await db.Instances.AsNoTracking().Where(i => i.CustomerId == customerId).OrderBy(i => i.Id)
            .Select(i => new
            {
                i.Id, i.Code, i.Name, i.PhoneNumber, i.State, i.HealthLevel, i.HealthScore,
                LastActivity = db.Messages.Where(m => m.InstanceId == i.Id).OrderByDescending(m => m.Id).Select(m => (DateTimeOffset?)m.CreatedAt).FirstOrDefault(),
            })
            .ToListAsync(ct);
        var ids = instances.Select(i => i.Id).ToList();
        // By instance and status: the outbox's own index answers it.
        var queues = await db.Messages.AsNoTracking()
            .Where(m => ids.Contains(m.InstanceId) && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending))
            .GroupBy(m => m.InstanceId)
            .Select(g => new { InstanceId = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.InstanceId, g => g.Count, ct);
        return instances.Select(i => new InstanceTile(i.Code, i.Name, i.PhoneNumber, i.State, queues.GetValueOrDefault(i.Id), i.LastActivity, i.HealthLevel, i.HealthScore))
            .ToList();
    }

    private static async Task<IReadOnlyList<CampaignStatus>> CampaignsAsync(WapBridgeDbContext db, int customerId, CancellationToken ct)
    {
        var rows = await (from c in db.Campaigns.AsNoTracking()
                          where c.CustomerId == customerId && ActiveCampaigns.Contains(c.State)
                          orderby c.Id descending
                          join i in db.Instances on c.InstanceId equals i.Id
                          select new { c, i.Code }).Take(MaxCampaigns).ToListAsync(ct);
        return rows.Select(r => CampaignService.ToStatus(r.c, r.Code)).ToList();
    }
}

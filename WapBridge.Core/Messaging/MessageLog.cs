using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

/// <summary>
/// The message record of contract §2, plus the conversation it is in (<see cref="Chat"/>: the contact's digits, a LID or
/// a group id) so a group message is told from a direct one, as its webhook tells it. A queued send that waits (contract
/// §12) says why and until when (<see cref="HoldReason"/>, <see cref="NextSendAt"/>). <see cref="TraceId"/> finds its
/// send, receipts and webhooks in the traces and logs.
/// </summary>
public sealed record MessageRecord(
    string Id, string InstanceId, string Direction, string? From, string? To, string? Body, string Type, string? Caption,
    string? Filename, string? MimeType, long? MediaSize, MessageStatus Status, int Ack, string? Error, string? ErrorCode, string Source, string? Campaign,
    DateTimeOffset CreatedAt, DateTimeOffset? SentAt, DateTimeOffset? DeliveredAt, DateTimeOffset? ReadAt,
    [property: JsonIgnore] string? MediaHash, string? SenderName = null, [property: JsonIgnore] string? InstanceName = null, string? Chat = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? HoldReason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextSendAt = null,
    [property: JsonIgnore] string? TraceParent = null,
    [property: JsonIgnore] string? Content = null)
{
    public bool IsGroup => WhatsAppNumbers.IsGroupId(Chat);

    /// <summary>
    /// Contract §11: the template a <c>template</c> message sent, or the fallback template a text went out as outside the
    /// 24-hour window (<see cref="TemplateContent.Fallback"/>); absent otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TemplateContent? Template => Type == Engines.CloudApi.TemplateService.MessageType || Content?.Contains(FallbackMark, StringComparison.Ordinal) == true
        ? MessageContent.Read<TemplateContent>(Content)
        : null;

    private const string FallbackMark = "\"fallback\":true";

    /// <summary>The trace the message was accepted or received in (32 hex digits); absent for messages from before traces.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TraceId => WapBridgeTelemetry.TraceIdOf(TraceParent);
}

public sealed record MessageFilter(string? InstanceCode, string? Direction, string? Status, string? Number, string? Campaign,
    DateTimeOffset? Since, DateTimeOffset? Until, string? Search = null);

/// <summary>Reads the customer's messages: one by id, or a filtered, newest-first page.</summary>
public sealed class MessageLog(IDbContextFactory<WapBridgeDbContext> dbFactory)
{
    public async Task<MessageRecord> GetAsync(int customerId, string? id, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(id))
            throw WapBridgeException.Missing("id");
        id = id.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await Project(db, db.Messages.Where(m => m.CustomerId == customerId && (m.SerializedId == id || m.WaMessageId == id)))
            .FirstOrDefaultAsync(ct);
        return row ?? throw WapBridgeException.NotFound("Message", id, "id");
    }

    public async Task<PagedList<MessageRecord>> ListAsync(int customerId, MessageFilter filter, Paging paging, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Messages.Where(m => m.CustomerId == customerId);
        if (!string.IsNullOrWhiteSpace(filter.InstanceCode))
        {
            var code = filter.InstanceCode.Trim().ToUpperInvariant();
            query = query.Where(m => db.Instances.Any(i => i.Id == m.InstanceId && i.Code == code));
        }
        if (!string.IsNullOrWhiteSpace(filter.Direction))
        {
            var direction = filter.Direction.Trim().ToLowerInvariant();
            if (direction is not (Message.Inbound or Message.Outbound))
                throw WapBridgeException.Invalid("direction", "invalid_direction", "direction must be inbound or outbound");
            query = query.Where(m => m.Direction == direction);
        }
        if (!string.IsNullOrWhiteSpace(filter.Status))
        {
            // An unknown status matches no message, as it always has.
            query = WireNames.TryFromWire<MessageStatus>(filter.Status.Trim().ToLowerInvariant(), out var status)
                ? query.Where(m => m.Status == status)
                : query.Where(m => false);
        }
        if (!string.IsNullOrWhiteSpace(filter.Number))
        {
            // Digits only, so the pattern needs no escaping; the customer's index bounds the scan the LIKE makes.
            var pattern = "%" + NumberFilterDigits(filter.Number) + "%";
            query = query.Where(m => EF.Functions.Like(m.ToNumber!, pattern) || EF.Functions.Like(m.FromNumber!, pattern));
        }
        if (!string.IsNullOrWhiteSpace(filter.Campaign))
        {
            var campaign = filter.Campaign.Trim().ToUpperInvariant();
            query = query.Where(m => db.Campaigns.Any(c => c.Id == m.CampaignId && c.Code == campaign && c.CustomerId == customerId));
        }
        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            // lower() on both sides: the same case-insensitive search on SQLite and PostgreSQL.
            var term = filter.Search.Trim().ToLowerInvariant();
            query = query.Where(m => (m.Body != null && m.Body.ToLower().Contains(term)) || m.SerializedId.ToLower().Contains(term));
        }
        if (filter.Since is { } since) query = query.Where(m => m.CreatedAt >= since);
        if (filter.Until is { } until) query = query.Where(m => m.CreatedAt <= until);

        var total = await query.CountAsync(ct);
        var rows = await Project(db, query.OrderByDescending(m => m.Id).Skip(paging.Offset).Take(paging.Limit)).ToListAsync(ct);
        return new PagedList<MessageRecord>(rows, total, paging.Limit, paging.Offset);
    }

    /// <summary>
    /// The digits a stored number (digits-only E.164) contains for what people type: <c>+255755…</c>, <c>255755…</c>,
    /// <c>00255755…</c>, a WhatsApp id, a national <c>0755…</c> (whose trunk 0 is not in the stored number) or a few
    /// digits from anywhere in it.
    /// </summary>
    internal static string NumberFilterDigits(string input)
    {
        var text = input.Trim();
        if (text.IndexOf('@') is var at and >= 0)
            text = text[..at];
        var digits = new string(text.Where(char.IsAsciiDigit).ToArray());
        if (digits.Length == 0)
            throw WapBridgeException.Invalid("number", "invalid_phone_number", "number must contain digits, e.g. 0755123456, +255755123456 or 5520");
        if (text.StartsWith('+'))
            return digits;
        if (digits.StartsWith("00", StringComparison.Ordinal) && digits.Length > 2)
            return digits[2..];
        return digits.Length > 1 && digits[0] == '0' ? digits[1..] : digits;
    }

    private static IQueryable<MessageRecord> Project(WapBridgeDbContext db, IQueryable<Message> query) =>
        from m in query
        join i in db.Instances on m.InstanceId equals i.Id
        join c in db.Campaigns on m.CampaignId equals c.Id into campaigns
        from c in campaigns.DefaultIfEmpty()
        select new MessageRecord(m.SerializedId, i.Code, m.Direction, m.FromNumber, m.ToNumber, m.Body, m.Type, m.Caption, m.Filename,
            m.MimeType, m.MediaSize, m.Status, m.Ack, m.Error, m.ErrorCode, m.Source, c == null ? null : c.Code, m.CreatedAt, m.SentAt, m.DeliveredAt, m.ReadAt, m.MediaHash,
            m.SenderName, i.Name, m.Chat,
            m.Status == MessageStatus.Queued && m.Direction == Message.Outbound ? m.HoldReason : null,
            m.Status == MessageStatus.Queued && m.Direction == Message.Outbound && m.HoldReason != null ? m.NextSendAt : null,
            m.TraceParent, m.Content);
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

/// <summary>
/// WhatsApp's read receipt can overtake the outbox's own "sent" update (a fast recipient, a busy database): the message
/// still gets its sent and delivered times, or it would be counted as read but never as sent (campaign counters, the
/// Overview, the receipt-lag metric).
/// </summary>
public abstract class ReceiptOrderTests(WapBridgeApp app)
{
    [Fact]
    public async Task A_read_receipt_on_a_message_still_sending_fills_its_sent_and_delivered_times()
    {
        app.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var sender = await app.CreateConnectedAsync();
        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        Message message;
        int instanceId;
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var instance = await db.Instances.AsNoTracking().SingleAsync(i => i.Code == sender.InstanceId, ct);
            instanceId = instance.Id;
            message = OutboundMessages.New(instance, "255757000111", "overtaken", null, null, MessageSources.Api, null,
                DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
            message.Status = MessageStatus.Sending;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await OutboundMessages.InsertAsync(db, [message], ct);
            await tx.CommitAsync(ct);
        }

        var readAt = DateTimeOffset.UtcNow;
        await app.Services.GetRequiredService<MessageReceipts>()
            .ApplyAsync([(instanceId, new MessageStatusEvent(sender.InstanceId, readAt, message.WaMessageId, MessageAck.Read))]);

        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var stored = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == message.Id, ct);
            Assert.Equal(MessageStatus.Read, stored.Status);
            Assert.NotNull(stored.SentAt);
            Assert.NotNull(stored.DeliveredAt);
            Assert.NotNull(stored.ReadAt);
        }
    }

    [Fact]
    public async Task Failure_receipts_in_one_batch_keep_each_messages_own_reason_and_error()
    {
        app.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var sender = await app.CreateConnectedAsync();
        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        var messages = new List<Message>();
        int instanceId;
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var instance = await db.Instances.AsNoTracking().SingleAsync(i => i.Code == sender.InstanceId, ct);
            instanceId = instance.Id;
            for (var i = 0; i < 3; i++)
            {
                var message = OutboundMessages.New(instance, "25575700011" + i, "failing " + i, null, null, MessageSources.Api, null,
                    DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
                message.Status = MessageStatus.Sent;
                messages.Add(message);
            }
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await OutboundMessages.InsertAsync(db, messages, ct);
            await tx.CommitAsync(ct);
        }

        var at = DateTimeOffset.UtcNow;
        await app.Services.GetRequiredService<MessageReceipts>().ApplyAsync(
        [
            (instanceId, new MessageStatusEvent(sender.InstanceId, at, messages[0].WaMessageId, MessageAck.Error, "Re-engagement message (Meta error 131047)")
                { ErrorCode = "template_required" }),
            (instanceId, new MessageStatusEvent(sender.InstanceId, at, messages[1].WaMessageId, MessageAck.Error, "Message undeliverable (Meta error 131026)")
                { ErrorCode = "undeliverable" }),
            (instanceId, new MessageStatusEvent(sender.InstanceId, at, messages[2].WaMessageId, MessageAck.Error, "WhatsApp reported the message as failed")),
        ]);

        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var ids = messages.Select(m => m.Id).ToList();
            var stored = await db.Messages.AsNoTracking().Where(m => ids.Contains(m.Id)).OrderBy(m => m.Id)
                .Select(m => new { m.Status, m.ErrorCode, m.Error }).ToListAsync(ct);
            Assert.All(stored, m => Assert.Equal(MessageStatus.Failed, m.Status));
            Assert.Equal(
                [("template_required", "Re-engagement message (Meta error 131047)"), ("undeliverable", "Message undeliverable (Meta error 131026)"),
                    ("whatsapp_error", "WhatsApp reported the message as failed")],
                stored.Select(m => (m.ErrorCode, m.Error)));
        }
    }
}

public sealed class SqliteReceiptOrderTests(SqliteReceiptOrderApp app) : ReceiptOrderTests(app), IClassFixture<SqliteReceiptOrderApp>;

public sealed class PostgresReceiptOrderTests(PostgresReceiptOrderApp app) : ReceiptOrderTests(app), IClassFixture<PostgresReceiptOrderApp>;

public sealed class SqliteReceiptOrderApp() : WapBridgeApp("sqlite");

public sealed class PostgresReceiptOrderApp() : WapBridgeApp("postgres");

using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

/// <summary>
/// One instance's <see cref="SentMessageContent"/> rows, encrypted with Data Protection like its auth state. In the
/// database, so a resend request is answered after a bridge or WapBridge restart and on whichever node hosts it.
/// </summary>
public sealed class SentMessageStore(IDbContextFactory<WapBridgeDbContext> dbFactory, IDataProtector protector, int instanceId, TimeProvider time)
    : ISentMessageStore
{
    public const string Purpose = "WapBridge.Messaging.SentMessageContent";

    public async Task SaveAsync(string waMessageId, string remoteJid, byte[] content, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // A resend of the same id (the outbox retries with the same id) replaces what was stored.
        await db.SentMessageContents.Where(c => c.InstanceId == instanceId && c.WaMessageId == waMessageId).ExecuteDeleteAsync(ct);
        db.SentMessageContents.Add(new SentMessageContent
        {
            InstanceId = instanceId,
            WaMessageId = waMessageId,
            RemoteJid = remoteJid.Length > 128 ? remoteJid[..128] : remoteJid,
            Content = protector.Protect(content),
            CreatedAt = time.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
    }

    public async Task<byte[]?> GetAsync(string waMessageId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var stored = await db.SentMessageContents.AsNoTracking()
            .Where(c => c.InstanceId == instanceId && c.WaMessageId == waMessageId)
            .OrderByDescending(c => c.Id).Select(c => c.Content).FirstOrDefaultAsync(ct);
        return stored is null ? null : protector.Unprotect(stored);
    }

    /// <summary>Deletes the content of messages sent before <paramref name="cutoff"/>, on every instance.</summary>
    public static Task<int> PurgeOlderThanAsync(WapBridgeDbContext db, DateTimeOffset cutoff, CancellationToken ct) =>
        db.SentMessageContents.Where(c => c.CreatedAt < cutoff).ExecuteDeleteAsync(ct);
}

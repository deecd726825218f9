using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// Writes a campaign's recipients in bulk inside the caller's transaction. EF's change tracker costs tens of
/// microseconds a row, which made a 100,000-recipient create take most of a minute; a prepared statement on
/// SQLite (<see cref="SqlitePreparedInsert"/>) and a binary COPY on PostgreSQL take a few microseconds.
/// </summary>
internal static class CampaignRecipientWriter
{
    private static readonly string[] Columns =
    [
        nameof(CampaignRecipient.CampaignId), nameof(CampaignRecipient.RawInput), nameof(CampaignRecipient.Number),
        nameof(CampaignRecipient.Variables), nameof(CampaignRecipient.State), nameof(CampaignRecipient.Error), nameof(CampaignRecipient.Attempts),
        nameof(CampaignRecipient.UpdatedAt),
    ];

    public static async Task InsertAsync(WapBridgeDbContext db, IReadOnlyList<CampaignRecipient> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Recipients are written inside the campaign's transaction.");
        if (transaction.Connection is not NpgsqlConnection npgsql)
        {
            SqlitePreparedInsert.Insert(db, rows, ct);
            return;
        }
        var entity = db.Model.FindEntityType(typeof(CampaignRecipient))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        await CopyAsync(npgsql, table.Name, Columns.Select(c => entity.FindProperty(c)!.GetColumnName(table)!).ToArray(), rows, ct);
    }

    /// <summary>
    /// Claims pending recipients for their messages (sending, the message's id, one more attempt) with one prepared
    /// UPDATE inside the caller's transaction; false as soon as one was no longer pending (another runner took it).
    /// </summary>
    public static async Task<bool> ClaimAsync(WapBridgeDbContext db, IReadOnlyList<(CampaignRecipient Recipient, Message Message)> sends, DateTimeOffset now,
        CancellationToken ct)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Recipients are claimed inside the campaign's transaction.");
        var entity = db.Model.FindEntityType(typeof(CampaignRecipient))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Column(string property) => $"\"{entity.FindProperty(property)!.GetColumnName(table)}\"";
        var updatedAt = entity.FindProperty(nameof(CampaignRecipient.UpdatedAt))!.GetTypeMapping().Converter;

        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        var state = Column(nameof(CampaignRecipient.State));
        var attempts = Column(nameof(CampaignRecipient.Attempts));
        command.CommandText = $"UPDATE \"{table.Name}\" SET {state} = @sending, {Column(nameof(CampaignRecipient.MessageId))} = @message, " +
            $"{attempts} = {attempts} + 1, {Column(nameof(CampaignRecipient.UpdatedAt))} = @now " +
            $"WHERE {Column(nameof(CampaignRecipient.Id))} = @id AND {state} = @pending";
        DbParameter Add(string name, object? value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
            return parameter;
        }
        Add("@sending", RecipientState.Sending.ToWire());
        Add("@pending", RecipientState.Pending.ToWire());
        Add("@now", updatedAt is null ? now : updatedAt.ConvertToProvider(now));
        var message = Add("@message", null);
        var id = Add("@id", null);
        await command.PrepareAsync(ct);
        foreach (var (recipient, sent) in sends)
        {
            message.Value = sent.Id;
            id.Value = recipient.Id;
            if (await command.ExecuteNonQueryAsync(ct) == 0)
                return false;
        }
        return true;
    }

    private static async Task CopyAsync(NpgsqlConnection connection, string table, string[] columns, IReadOnlyList<CampaignRecipient> rows, CancellationToken ct)
    {
        var sql = $"COPY \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) FROM STDIN (FORMAT BINARY)";
        await using var importer = await connection.BeginBinaryImportAsync(sql, ct);
        foreach (var r in rows)
        {
            await importer.StartRowAsync(ct);
            await importer.WriteAsync(r.CampaignId, NpgsqlDbType.Bigint, ct);
            await importer.WriteAsync(r.RawInput, NpgsqlDbType.Varchar, ct);
            await WriteNullableAsync(importer, r.Number, NpgsqlDbType.Varchar, ct);
            await WriteNullableAsync(importer, r.Variables, NpgsqlDbType.Text, ct);
            await importer.WriteAsync(r.State.ToWire(), NpgsqlDbType.Varchar, ct);
            await WriteNullableAsync(importer, r.Error, NpgsqlDbType.Varchar, ct);
            await importer.WriteAsync(r.Attempts, NpgsqlDbType.Integer, ct);
            await importer.WriteAsync(r.UpdatedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, ct);
        }
        await importer.CompleteAsync(ct);
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter importer, string? value, NpgsqlDbType type, CancellationToken ct)
    {
        if (value is null)
            await importer.WriteNullAsync(ct);
        else
            await importer.WriteAsync(value, type, ct);
    }
}

using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace WapBridge.Core.Persistence;

/// <summary>
/// Inserts new rows of one entity type on SQLite with one prepared statement, inside the caller's transaction.
/// EF's SaveChanges builds SQL, parameters and change-tracking entries for every row (tens of microseconds and
/// kilobytes each); a prepared statement rebinds a handful of values. Table, columns and value converters come
/// from the EF model, so the rows read back exactly as EF would have written them. Database-generated keys are
/// read back with <c>RETURNING</c> and set on the entities.
/// </summary>
internal static class SqlitePreparedInsert
{
    private sealed record Plan(string Sql, IProperty[] Properties, ValueConverter?[] Converters, IProperty? GeneratedKey);

    private static readonly ConcurrentDictionary<(IModel, Type), Plan> Plans = new();

    public static void Insert<TEntity>(WapBridgeDbContext db, IEnumerable<TEntity> rows, CancellationToken ct = default) where TEntity : class
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException($"{typeof(TEntity).Name} rows are written inside the caller's transaction.");
        var plan = Plans.GetOrAdd((db.Model, typeof(TEntity)), key => CreatePlan(key.Item1, key.Item2));

        using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = plan.Sql;
        var parameters = new DbParameter[plan.Properties.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = $"@p{i}";
            command.Parameters.Add(parameters[i]);
        }
        command.Prepare();
        foreach (var row in rows)
        {
            ct.ThrowIfCancellationRequested();
            for (var i = 0; i < parameters.Length; i++)
            {
                var value = plan.Properties[i].GetGetter().GetClrValueUsingContainingEntity(row);
                if (value is not null && plan.Converters[i] is { } converter)
                    value = converter.ConvertToProvider(value);
                parameters[i].Value = value ?? DBNull.Value;
            }
            // Microsoft.Data.Sqlite runs async calls synchronously anyway; the sync call skips a task per row.
            if (plan.GeneratedKey is { PropertyInfo: { } key })
                key.SetValue(row, Convert.ChangeType(command.ExecuteScalar(), key.PropertyType, CultureInfo.InvariantCulture));
            else
                command.ExecuteNonQuery();
        }
    }

    private static Plan CreatePlan(IModel model, Type clrType)
    {
        var entity = model.FindEntityType(clrType) ?? throw new InvalidOperationException($"{clrType.Name} is not in the model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var generatedKey = entity.FindPrimaryKey()?.Properties is [{ ValueGenerated: ValueGenerated.OnAdd } key] ? key : null;
        var properties = entity.GetProperties().Where(p => p != generatedKey && p.GetColumnName(table) is not null && p.PropertyInfo is not null).ToArray();
        var columns = string.Join(", ", properties.Select(p => $"\"{p.GetColumnName(table)}\""));
        var values = string.Join(", ", properties.Select((_, i) => $"@p{i}"));
        var returning = generatedKey is null ? "" : $" RETURNING \"{generatedKey.GetColumnName(table)}\"";
        return new Plan($"INSERT INTO \"{table.Name}\" ({columns}) VALUES ({values}){returning}", properties,
            properties.Select(p => p.GetTypeMapping().Converter).ToArray(), generatedKey);
    }
}

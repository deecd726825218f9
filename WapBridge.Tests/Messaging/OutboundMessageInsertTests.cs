using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WapBridge.Core.Accounts;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Tests.Messaging;

/// <summary>The prepared-statement insert on SQLite writes rows that read back exactly as EF's own insert writes them.</summary>
public sealed class OutboundMessageInsertTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
    private ServiceProvider _services = null!;
    private IDbContextFactory<WapBridgeDbContext> _dbFactory = null!;
    private Instance _instance = null!;

    public async ValueTask InitializeAsync()
    {
        _services = new ServiceCollection().AddLogging().AddWapBridgeDatabase(new DatabaseOptions(), _dir).BuildServiceProvider();
        _dbFactory = _services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await DatabaseMigrator.MigrateAsync(_dbFactory, NullLogger.Instance, Ct);
        await using var db = await _dbFactory.CreateDbContextAsync(Ct);
        var now = new DateTimeOffset(2026, 11, 28, 9, 30, 0, TimeSpan.FromHours(3));
        var customer = new Customer { Code = "CUST-0001", Name = "Insert", Email = "insert@example.com", CreatedAt = now };
        db.Customers.Add(customer);
        await db.SaveChangesAsync(Ct);
        _instance = new Instance
        {
            Code = "INST-01-0000001", CustomerId = customer.Id, Name = "main", Engine = "simulator", NodeId = "01",
            State = InstanceState.Connected, PhoneNumber = "255700000001", CreatedAt = now, StateChangedAt = now,
        };
        db.Instances.Add(_instance);
        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task A_prepared_insert_reads_back_like_an_EF_insert_and_gets_its_ids()
    {
        var at = new DateTimeOffset(2026, 11, 28, 9, 31, 12, 345, TimeSpan.FromHours(3));
        Message Sample(string tag)
        {
            var message = OutboundMessages.New(_instance, "255755123456", null,
                new StoredMedia("ab12cd", "image/png", "pic.png", 2048, "image"), $"caption {tag} ✓ 𝄞", MessageSources.Campaign, 42, at, TimeSpan.FromHours(24));
            message.Status = MessageStatus.Sent;
            message.Ack = 1;
            message.Error = "none";
            message.ErrorCode = "x";
            message.Priority = 3;
            message.Attempts = 2;
            message.SentAt = at.AddSeconds(1);
            message.DeliveredAt = null;
            message.ReadAt = at.AddSeconds(3);
            return message;
        }
        var prepared = new[] { Sample("a"), Sample("b") };
        var tracked = Sample("a");

        await using (var db = await _dbFactory.CreateDbContextAsync(Ct))
        {
            Assert.True(db.Database.IsSqlite());
            await using var transaction = await db.Database.BeginTransactionAsync(Ct);
            await OutboundMessages.InsertAsync(db, prepared, Ct);
            await transaction.CommitAsync(Ct);
            db.Messages.Add(tracked);
            await db.SaveChangesAsync(Ct);
        }

        Assert.All(prepared, m => Assert.True(m.Id > 0));
        Assert.NotEqual(prepared[0].Id, prepared[1].Id);
        await using var read = await _dbFactory.CreateDbContextAsync(Ct);
        var rows = await read.Messages.AsNoTracking().OrderBy(m => m.Id).ToListAsync(Ct);
        Assert.Equal(new[] { prepared[0].Id, prepared[1].Id, tracked.Id }, rows.Select(m => m.Id));
        var viaPrepared = rows[0];
        var viaEf = rows[2];
        foreach (var property in typeof(Message).GetProperties().Where(p => p.Name is not (nameof(Message.Id) or nameof(Message.WaMessageId) or nameof(Message.SerializedId))))
            Assert.True(Equals(property.GetValue(viaEf), property.GetValue(viaPrepared)), $"{property.Name}: EF {property.GetValue(viaEf)}, prepared {property.GetValue(viaPrepared)}");
        Assert.Equal(prepared[0].WaMessageId, viaPrepared.WaMessageId);
        Assert.Equal(at, viaPrepared.CreatedAt);
        Assert.Equal("caption a ✓ 𝄞", viaPrepared.Body);
    }

    [Fact]
    public async Task A_prepared_insert_outside_a_transaction_is_refused()
    {
        await using var db = await _dbFactory.CreateDbContextAsync(Ct);
        var message = OutboundMessages.New(_instance, "255755123456", "hello", null, null, MessageSources.Api, null, DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        await Assert.ThrowsAsync<InvalidOperationException>(() => OutboundMessages.InsertAsync(db, [message], Ct));
        Assert.Equal(0, await db.Messages.CountAsync(Ct));
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Persistence;

/// <summary>The PostgreSQL media store: chunks in, a local copy for engines, a stream out, and retention.</summary>
public sealed class DatabaseMediaStoreTests() : WapBridgeApp("postgres")
{
    [Fact]
    public async Task A_file_is_stored_in_chunks_copied_for_engines_read_back_and_purged_with_its_chunks()
    {
        SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var store = Services.GetRequiredService<IMediaStore>();
        Assert.IsType<DatabaseMediaStore>(store);
        var bytes = SharedNodeTests.Document(2 * DatabaseMediaStore.ChunkSize + 10);

        var stored = await store.SaveAsync(new MemoryStream(bytes), ct);
        Assert.Equal(bytes.Length, stored.Size);
        // Stored twice, kept once.
        Assert.Equal(stored, await store.SaveAsync(new MemoryStream(bytes), ct));
        await using (var db = await Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(ct))
        {
            Assert.Equal(1, await db.MediaBlobs.CountAsync(ct));
            Assert.Equal([DatabaseMediaStore.ChunkSize, DatabaseMediaStore.ChunkSize, 10],
                await db.MediaChunks.OrderBy(c => c.Index).Select(c => c.Data.Length).ToListAsync(ct));
        }

        var path = await store.GetLocalPathAsync(stored.Hash, ct);
        Assert.NotNull(path);
        Assert.StartsWith(DataDir, path);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path, ct));
        await using (var read = store.OpenRead(stored.Hash)!)
        {
            var copy = new MemoryStream();
            await read.CopyToAsync(copy, ct);
            Assert.Equal(bytes, copy.ToArray());
        }

        Assert.Equal(0, store.PurgeOlderThan(DateTimeOffset.UtcNow.AddMinutes(-1)));
        Assert.Equal(1, store.PurgeOlderThan(DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Null(store.OpenRead(stored.Hash));
        Assert.Null(await store.GetLocalPathAsync(stored.Hash, ct));
        Assert.False(File.Exists(path));
        await using (var db = await Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(ct))
            Assert.Equal(0, await db.MediaChunks.CountAsync(ct));
    }
}

using Microsoft.EntityFrameworkCore;

namespace WapBridge.Core.Messaging;

/// <summary>Where media lives when not in <c>&lt;DataDir&gt;/media</c> (section <c>WapBridge:Media</c>).</summary>
public sealed class MediaOptions
{
    public const string Section = "WapBridge:Media";

    /// <summary>
    /// A folder every node mounts (NFS, SMB, a shared volume): media is kept there instead of in the database on
    /// PostgreSQL, or instead of the data folder on SQLite. Null keeps the default for the provider.
    /// </summary>
    public string? SharedDirectory { get; set; }
}

/// <summary>
/// Media in the database, so every node of a PostgreSQL cluster reads what any node accepted: one <see cref="MediaBlob"/>
/// per file (named by its SHA-256) and its bytes in <see cref="MediaChunk"/>s of <see cref="ChunkSize"/>, written and read a
/// chunk at a time so no file is ever whole in memory. Uploads stage in <c>&lt;DataDir&gt;/media/staging</c>; engines that
/// need a path get a copy in <c>&lt;DataDir&gt;/media-cache</c>.
/// </summary>
public sealed class DatabaseMediaStore(IDbContextFactory<Persistence.WapBridgeDbContext> dbFactory, string dataDir, TimeProvider time) : IMediaStore
{
    public const int ChunkSize = 1024 * 1024;

    private readonly string _staging = Path.Combine(dataDir, "media", "staging");
    private readonly string _cache = Path.Combine(dataDir, "media-cache");

    public MediaUpload BeginUpload(long keepBytes)
    {
        Directory.CreateDirectory(_staging);
        return new MediaUpload(Path.Combine(_staging, Guid.NewGuid().ToString("N") + ".part"), keepBytes, CommitAsync);
    }

    private async Task<MediaFile> CommitAsync(MediaUpload upload, string stagedPath)
    {
        try
        {
            await using (var content = new FileStream(stagedPath, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
                await StoreAsync(upload.Hash, content);
        }
        finally
        {
            File.Delete(stagedPath);
        }
        return new MediaFile(upload.Hash, upload.Length);
    }

    private async Task StoreAsync(string hash, Stream content)
    {
        CheckHash(hash);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync();
        // Stored again: the retention clock restarts, so a file still in use is not purged.
        if (await db.MediaBlobs.Where(b => b.Hash == hash).ExecuteUpdateAsync(s => s.SetProperty(b => b.StoredAt, now)) > 0)
            return;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var blob = new MediaBlob { Hash = hash, Size = content.Length, ChunkCount = (int)((content.Length + ChunkSize - 1) / ChunkSize), StoredAt = now };
            db.MediaBlobs.Add(blob);
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
            var buffer = new byte[ChunkSize];
            for (var index = 0; index < blob.ChunkCount; index++)
            {
                var length = (int)Math.Min(ChunkSize, blob.Size - (long)index * ChunkSize);
                await content.ReadExactlyAsync(buffer.AsMemory(0, length));
                db.MediaChunks.Add(new MediaChunk { Hash = hash, Index = index, Data = buffer[..length] });
                await db.SaveChangesAsync();
                // One chunk tracked at a time: the file never piles up in the change tracker.
                db.ChangeTracker.Clear();
            }
            await transaction.CommitAsync();
        }
        catch (DbUpdateException) when (Exists(hash))
        {
            // Another node stored the same bytes at the same moment: theirs is the copy.
        }
    }

    private bool Exists(string hash)
    {
        using var db = dbFactory.CreateDbContext();
        return db.MediaBlobs.Any(b => b.Hash == hash);
    }

    public Stream? OpenRead(string hash)
    {
        CheckHash(hash);
        using var db = dbFactory.CreateDbContext();
        var blob = db.MediaBlobs.AsNoTracking().SingleOrDefault(b => b.Hash == hash);
        return blob is null ? null : new ChunkStream(dbFactory, blob);
    }

    public async ValueTask<string?> GetLocalPathAsync(string hash, CancellationToken ct = default)
    {
        CheckHash(hash);
        var path = Path.Combine(_cache, hash[..2], hash);
        if (File.Exists(path))
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return path;
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var blob = await db.MediaBlobs.AsNoTracking().SingleOrDefaultAsync(b => b.Hash == hash, ct);
        if (blob is null)
            return null;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var part = path + "." + Guid.NewGuid().ToString("N") + ".part";
        try
        {
            await using (var target = new FileStream(part, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            await using (var source = new ChunkStream(dbFactory, blob))
                await source.CopyToAsync(target, ct);
            // Written aside then moved, so an engine never reads a half-written copy.
            File.Move(part, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(part); } catch (IOException) { }
            throw;
        }
        return path;
    }

    /// <summary>Deletes files not stored since <paramref name="cutoff"/> (their chunks go with them), and stale local copies.</summary>
    public int PurgeOlderThan(DateTimeOffset cutoff)
    {
        using var db = dbFactory.CreateDbContext();
        var deleted = db.MediaBlobs.Where(b => b.StoredAt < cutoff).ExecuteDelete();
        foreach (var folder in new[] { _cache, _staging }.Where(Directory.Exists))
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
                if (File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
                    File.Delete(file);
        return deleted;
    }

    private static void CheckHash(string hash)
    {
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException("not a media hash", nameof(hash));
    }

    /// <summary>Reads a blob's chunks one at a time, each with its own short query.</summary>
    private sealed class ChunkStream(IDbContextFactory<Persistence.WapBridgeDbContext> dbFactory, MediaBlob blob) : Stream
    {
        private byte[] _chunk = [];
        private int _offset;
        private int _next;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => blob.Size;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_offset == _chunk.Length)
            {
                if (_next >= blob.ChunkCount)
                    return 0;
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                var index = _next;
                _chunk = await db.MediaChunks.Where(c => c.Hash == blob.Hash && c.Index == index).Select(c => c.Data).SingleOrDefaultAsync(ct)
                    ?? throw new IOException($"Media {blob.Hash} lost chunk {index} (purged while being read).");
                _offset = 0;
                _next++;
            }
            var count = Math.Min(buffer.Length, _chunk.Length - _offset);
            _chunk.AsMemory(_offset, count).CopyTo(buffer);
            _offset += count;
            _position += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>
/// Moves media kept in <c>&lt;DataDir&gt;/media</c> by a release before the shared store into it, so messages and links
/// made before the switch keep working on every node.
/// </summary>
public static class LegacyMediaImport
{
    public static async Task<int> ImportAsync(IMediaStore store, string legacyRoot, CancellationToken ct = default)
    {
        if (!Directory.Exists(legacyRoot))
            return 0;
        var imported = 0;
        foreach (var folder in Directory.EnumerateDirectories(legacyRoot).Where(d => Path.GetFileName(d) is { Length: 2 } name && name.All(char.IsAsciiHexDigitLower)))
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                var hash = Path.GetFileName(file);
                if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower) || !hash.StartsWith(Path.GetFileName(folder), StringComparison.Ordinal))
                    continue;
                // Adopting deletes the file once the store holds it: a restart picks up where a crash stopped.
                await store.AdoptAsync(file, hash, ct);
                imported++;
            }
        return imported;
    }
}

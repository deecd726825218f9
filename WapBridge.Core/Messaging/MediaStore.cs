using System.Security.Cryptography;

namespace WapBridge.Core.Messaging;

/// <summary>A file kept in the media store, named by the SHA-256 of its bytes.</summary>
public sealed record MediaFile(string Hash, long Size);

/// <summary>
/// Where media lives. Callers stream bytes in (<see cref="BeginUpload"/>, then <see cref="MediaUpload.CommitAsync"/>)
/// and get a <see cref="MediaFile"/>; engines ask for a local file path, HTTP serving for a read stream. Another backend
/// (a store shared by a cluster, say) replaces the implementation without touching those callers.
/// </summary>
public interface IMediaStore
{
    /// <summary>
    /// A staging file for bytes arriving now. At most <paramref name="keepBytes"/> are kept (more are only counted, so
    /// the caller can name the size it refuses); nothing is visible under a hash until the upload is committed.
    /// </summary>
    MediaUpload BeginUpload(long keepBytes);

    /// <summary>A read stream over the stored file, or null when it is no longer kept.</summary>
    Stream? OpenRead(string hash);

    /// <summary>A path on this machine holding the file's bytes (for engines that hand files on), or null when it is not kept.</summary>
    ValueTask<string?> GetLocalPathAsync(string hash, CancellationToken ct = default);

    /// <summary>Deletes files not written since <paramref name="cutoff"/>; answers how many.</summary>
    int PurgeOlderThan(DateTimeOffset cutoff);

    /// <summary>
    /// Takes over a file an engine wrote (named by its SHA-256 <paramref name="hash"/>): afterwards the store has it and
    /// <paramref name="path"/> is gone. This default streams a copy and deletes the original; a local store moves it.
    /// </summary>
    async Task<MediaFile> AdoptAsync(string path, string hash, CancellationToken ct = default)
    {
        MediaFile stored;
        await using (var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan))
            stored = await this.SaveAsync(content, ct);
        File.Delete(path);
        return stored;
    }
}

public static class MediaStoreExtensions
{
    /// <summary>Stores <paramref name="content"/> whole (engine media already in memory, or a stream).</summary>
    public static async Task<MediaFile> SaveAsync(this IMediaStore store, Stream content, CancellationToken ct = default)
    {
        await using var upload = store.BeginUpload(long.MaxValue);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer, ct)) > 0)
                await upload.WriteAsync(buffer.AsMemory(0, read), ct);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return await upload.CommitAsync(ct);
    }
}

/// <summary>Media files under <c>&lt;DataDir&gt;/media</c>, named by their SHA-256: the same file is stored once.</summary>
public sealed class MediaStore(string root) : IMediaStore
{
    private const string StagingFolder = "staging";

    public string Root { get; } = root;

    public MediaUpload BeginUpload(long keepBytes)
    {
        var staging = Path.Combine(Root, StagingFolder);
        Directory.CreateDirectory(staging);
        return new MediaUpload(Path.Combine(staging, Guid.NewGuid().ToString("N") + ".part"), keepBytes, CommitAsync);
    }

    private Task<MediaFile> CommitAsync(MediaUpload upload, string stagedPath)
    {
        var path = PathFor(upload.Hash);
        if (File.Exists(path))
        {
            // Stored again: the retention clock restarts, so a file still in use is not purged.
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            File.Delete(stagedPath);
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Staged then moved, so a crash never leaves a truncated file under the final name.
            File.Move(stagedPath, path, overwrite: true);
        }
        return Task.FromResult(new MediaFile(upload.Hash, upload.Length));
    }

    /// <summary>
    /// Moves the file in (a rename on the same file system; .NET copies and deletes across file systems), through the
    /// staging folder so a crash never leaves a truncated file under its hash. Adopting a file that is already
    /// stored, or again after a retry moved it in, answers the stored one.
    /// </summary>
    public Task<MediaFile> AdoptAsync(string path, string hash, CancellationToken ct = default)
    {
        var target = PathFor(hash);
        if (!File.Exists(path))
        {
            if (File.Exists(target))
                return Task.FromResult(new MediaFile(hash, new FileInfo(target).Length));
            throw new FileNotFoundException("The media file to adopt is gone.", path);
        }
        var size = new FileInfo(path).Length;
        if (File.Exists(target))
        {
            File.SetLastWriteTimeUtc(target, DateTime.UtcNow);
            File.Delete(path);
            return Task.FromResult(new MediaFile(hash, size));
        }
        var staging = Path.Combine(Root, StagingFolder);
        Directory.CreateDirectory(staging);
        var staged = Path.Combine(staging, Guid.NewGuid().ToString("N") + ".part");
        try
        {
            File.Move(path, staged);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(staged, target, overwrite: true);
            // A move keeps the engine's timestamp; the retention clock starts now.
            File.SetLastWriteTimeUtc(target, DateTime.UtcNow);
        }
        catch (IOException e)
        {
            try { File.Delete(staged); } catch (IOException) { }
            throw new MediaStoreException(e);
        }
        return Task.FromResult(new MediaFile(hash, size));
    }

    public Stream? OpenRead(string hash)
    {
        try
        {
            return new FileStream(PathFor(hash), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public ValueTask<string?> GetLocalPathAsync(string hash, CancellationToken ct = default)
    {
        var path = PathFor(hash);
        return ValueTask.FromResult(File.Exists(path) ? path : null);
    }

    public int PurgeOlderThan(DateTimeOffset cutoff)
    {
        if (!Directory.Exists(Root))
            return 0;
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            // Staging files of uploads still running are fresh; older ones were left by a crash.
            if (File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
            {
                File.Delete(file);
                deleted++;
            }
        }
        return deleted;
    }

    private string PathFor(string hash)
    {
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException("not a media hash", nameof(hash));
        return Path.Combine(Root, hash[..2], hash);
    }
}

/// <summary>
/// Bytes on their way into the media store: written to a staging file while they are hashed and counted, kept
/// up to a limit, and stored under their hash only on <see cref="CommitAsync"/>. Disposed uncommitted, it leaves nothing.
/// </summary>
public sealed class MediaUpload : IAsyncDisposable
{
    /// <summary>How many leading bytes are kept in memory, for recognising a file type by its signature.</summary>
    public const int HeadLength = 64;

    private readonly string _path;
    private readonly long _keepBytes;
    private readonly Func<MediaUpload, string, Task<MediaFile>> _commit;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _head = new byte[HeadLength];
    private FileStream? _file;
    private string? _hash;
    private bool _committed;

    internal MediaUpload(string path, long keepBytes, Func<MediaUpload, string, Task<MediaFile>> commit)
    {
        _path = path;
        _keepBytes = keepBytes;
        _commit = commit;
    }

    /// <summary>Bytes received, counted on past the kept limit.</summary>
    public long Length { get; private set; }

    /// <summary>More bytes arrived than the upload keeps: it can only be refused.</summary>
    public bool OverLimit => Length > _keepBytes;

    /// <summary>The first bytes (up to <see cref="HeadLength"/>).</summary>
    public ReadOnlySpan<byte> Head => _head.AsSpan(0, (int)Math.Min(Length, HeadLength));

    /// <summary>Why the bytes cannot be used (e.g. invalid base64), set by whoever decoded them; null when they can.</summary>
    public string? Problem { get; set; }

    /// <summary>The argument the bytes came from, for error messages (<c>media_data</c>, or a multipart part's name).</summary>
    public string Field { get; set; } = "media_data";

    /// <summary>What the sender said about the file (a multipart part's Content-Type and file name), if anything.</summary>
    public string? DeclaredType { get; set; }
    public string? DeclaredName { get; set; }

    /// <summary>SHA-256 of every byte (lowercase hex), once <see cref="CompleteAsync"/> has run.</summary>
    public string Hash => _hash ?? throw new InvalidOperationException("The upload is not complete.");

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        if (_hash is not null)
            throw new InvalidOperationException("The upload is complete.");
        if (Length < HeadLength)
            data.Span[..(int)Math.Min(data.Length, HeadLength - Length)].CopyTo(_head.AsSpan((int)Length));
        var keep = (int)Math.Clamp(_keepBytes - Length, 0, data.Length);
        Length += data.Length;
        if (keep == 0)
            return;
        _sha.AppendData(data.Span[..keep]);
        try
        {
            _file ??= new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 0, FileOptions.Asynchronous);
            await _file.WriteAsync(data[..keep], ct);
        }
        catch (IOException e)
        {
            throw new MediaStoreException(e);
        }
    }

    /// <summary>No more bytes: the file is flushed and its hash known.</summary>
    public async Task CompleteAsync(CancellationToken ct = default)
    {
        if (_hash is not null)
            return;
        if (_file is not null)
        {
            try
            {
                await _file.FlushAsync(ct);
                await _file.DisposeAsync();
            }
            catch (IOException e)
            {
                throw new MediaStoreException(e);
            }
            _file = null;
        }
        _hash = Convert.ToHexStringLower(_sha.GetHashAndReset());
    }

    /// <summary>Stores the bytes under their hash (the same file is kept once) and answers where they are.</summary>
    public async Task<MediaFile> CommitAsync(CancellationToken ct = default)
    {
        if (OverLimit || Problem is not null)
            throw new InvalidOperationException("A refused upload cannot be stored.");
        await CompleteAsync(ct);
        if (!File.Exists(_path))
            await File.WriteAllBytesAsync(_path, [], ct);
        var file = await _commit(this, _path);
        _committed = true;
        return file;
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
            await _file.DisposeAsync();
        _sha.Dispose();
        if (!_committed)
            try { File.Delete(_path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// The media store could not write a file (a full disk, say): the server's fault, never reported as a bad request body
/// (request bodies that break off are IOExceptions too).
/// </summary>
public sealed class MediaStoreException(IOException inner) : Exception("The media store could not write a file: " + inner.Message, inner);

using System.Security.Cryptography;

namespace WapBridge.Core.Messaging;

/// <summary>Media files under <c>&lt;DataDir&gt;/media</c>, named by their SHA-256: the same file is stored once.</summary>
public sealed class MediaStore(string root)
{
    public string Root { get; } = root;

    public async Task<string> SaveAsync(byte[] data, CancellationToken ct = default)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(data));
        var path = PathFor(hash);
        if (File.Exists(path))
        {
            // Stored again: the retention clock restarts, so a file still in use is not purged.
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return hash;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write aside then move, so a crash never leaves a truncated file under the final name.
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temp, data, ct);
        File.Move(temp, path, overwrite: true);
        return hash;
    }

    public async Task<byte[]?> ReadAsync(string hash, CancellationToken ct = default)
    {
        var path = PathFor(hash);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, ct) : null;
    }

    /// <summary>Deletes media files not written since <paramref name="cutoff"/>; answers how many.</summary>
    public int PurgeOlderThan(DateTimeOffset cutoff)
    {
        if (!Directory.Exists(Root))
            return 0;
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
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

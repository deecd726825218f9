using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// Media files exchanged with the bridge through the data folder, so no file ever travels as base64 in a protocol
/// line: sends hand the bridge a path (the media store's own file, or a copy under <c>bridge-media/outbound</c>),
/// and the bridge writes what it downloads to <c>bridge-media/&lt;sha256&gt;</c>. Only paths inside the data folder
/// are accepted, so a bridge cannot make the host read arbitrary files.
/// </summary>
internal sealed class BridgeMediaFolder(string dataDirectory)
{
    /// <summary>Where the bridge writes inbound media (its <c>MediaFolder</c> uses the same name).</summary>
    public const string FolderName = "bridge-media";

    private const string OutboundFolderName = "outbound";

    public string DataDirectory { get; } = Path.GetFullPath(dataDirectory);

    public string Folder => Path.Combine(DataDirectory, FolderName);

    /// <summary>
    /// Empties the exchange folder. Called before the first bridge of this host starts: whatever is there was left by
    /// a crash (bridges are this host's children, so none is running yet).
    /// </summary>
    public void CleanLeftovers(ILogger logger)
    {
        if (!Directory.Exists(Folder))
            return;
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
        {
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not remove the leftover bridge media file {File}: {Error}", file, e.Message);
            }
        }
        if (removed > 0)
            logger.LogInformation("Removed {Count} media files a stopped WhatsApp bridge left in {Folder}", removed, Folder);
    }

    /// <summary>True when <paramref name="path"/> is a file path inside the data folder (after resolving <c>..</c>).</summary>
    public bool Contains(string path)
    {
        if (!Path.IsPathFullyQualified(path))
            return false;
        var relative = Path.GetRelativePath(DataDirectory, Path.GetFullPath(path));
        return relative != "." && !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
    }

    /// <summary>
    /// Checks a <c>message_media</c> file: inside the data folder, a regular file (not a link to elsewhere) named by the
    /// SHA-256 the bridge reports. Throws <see cref="BridgeException"/> with the reason otherwise.
    /// </summary>
    public string CheckInbound(string? path, string? sha256)
    {
        if (string.IsNullOrEmpty(path) || !Contains(path))
            throw new BridgeException("invalid_media_path", $"the bridge reported media at '{path}', which is not inside the data folder {DataDirectory}; refused");
        var full = Path.GetFullPath(path);
        if (sha256 is not { Length: 64 } || !sha256.All(char.IsAsciiHexDigitLower) || Path.GetFileName(full) != sha256)
            throw new BridgeException("invalid_media_path", $"the bridge reported media at '{path}' that is not named by its SHA-256; refused");
        var info = new FileInfo(full);
        if (!info.Exists || info.LinkTarget is not null)
            throw new BridgeException("invalid_media_path", $"the bridge reported media at '{path}', which is not a regular file; refused");
        return full;
    }

    /// <summary>
    /// A path the bridge may read <paramref name="media"/> from: its own file when that is inside the data folder (the
    /// media store's), else a copy under <c>bridge-media/outbound</c> named by its hash, which the caller deletes after the send.
    /// </summary>
    public async Task<(string Path, bool Temporary)> OutboundPathAsync(EngineMedia media, CancellationToken ct)
    {
        if (media.LocalPath is { } local && Contains(local) && new FileInfo(local).LinkTarget is null)
            return (Path.GetFullPath(local), false);
        var folder = Path.Combine(Folder, OutboundFolderName);
        Directory.CreateDirectory(folder);
        var staging = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".part");
        try
        {
            string hash;
            await using (var source = media.OpenRead())
            await using (var target = new FileStream(staging, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                hash = Convert.ToHexStringLower(sha.GetHashAndReset());
            }
            // The hash names the content; the suffix keeps two sends of the same file from deleting each other's copy.
            var path = Path.Combine(folder, $"{hash}-{Guid.NewGuid().ToString("N")[..12]}");
            File.Move(staging, path);
            return (path, true);
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

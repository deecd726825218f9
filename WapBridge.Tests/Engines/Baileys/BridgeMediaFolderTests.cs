using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Core.Messaging;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>Media files between host and bridge: only paths in the data folder, copies cleaned, files adopted by moving.</summary>
[Trait("Category", "Unit")]
public sealed class BridgeMediaFolderTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("bridge-media-folder-");

    public void Dispose() => _data.Delete(recursive: true);

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private string BridgeFile(byte[] bytes)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_data.FullName, BridgeMediaFolder.FolderName)).FullName;
        var path = Path.Combine(folder, Sha256(bytes));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Inbound_paths_must_be_regular_files_inside_the_data_folder_named_by_their_hash()
    {
        var folder = new BridgeMediaFolder(_data.FullName);
        var bytes = "photo"u8.ToArray();
        var path = BridgeFile(bytes);
        Assert.Equal(path, folder.CheckInbound(path, Sha256(bytes)));
        Assert.Equal(path, folder.CheckInbound(Path.Combine(_data.FullName, "media", "..", BridgeMediaFolder.FolderName, Sha256(bytes)), Sha256(bytes)));

        Assert.Equal("invalid_media_path", Assert.Throws<BridgeException>(() => folder.CheckInbound("/etc/passwd", Sha256(bytes))).Code);
        Assert.Throws<BridgeException>(() => folder.CheckInbound(Path.Combine(_data.FullName, "..", Sha256(bytes)), Sha256(bytes)));
        Assert.Throws<BridgeException>(() => folder.CheckInbound(path, Sha256("other"u8.ToArray())));
        Assert.Throws<BridgeException>(() => folder.CheckInbound("relative/" + Sha256(bytes), Sha256(bytes)));
        Assert.Throws<BridgeException>(() => folder.CheckInbound(null, null));

        // A link inside the data folder pointing elsewhere would make the host read a file outside it.
        var target = Path.Combine(Path.GetTempPath(), "link-target-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(target, "secret");
        try
        {
            var hash = Sha256("secret"u8.ToArray());
            var link = Path.Combine(_data.FullName, BridgeMediaFolder.FolderName, hash);
            File.CreateSymbolicLink(link, target);
            Assert.Contains("not a regular file", Assert.Throws<BridgeException>(() => folder.CheckInbound(link, hash)).Message);
        }
        finally
        {
            File.Delete(target);
        }
    }

    [Fact]
    public async Task Outbound_media_inside_the_data_folder_is_passed_as_is_and_other_media_is_copied_under_its_hash()
    {
        var folder = new BridgeMediaFolder(_data.FullName);
        var stored = Path.Combine(_data.FullName, "media", "ab", "file");
        Directory.CreateDirectory(Path.GetDirectoryName(stored)!);
        await File.WriteAllBytesAsync(stored, [1, 2, 3]);
        Assert.Equal((stored, false), await folder.OutboundPathAsync(EngineMedia.FromFile(stored, 3, "image/jpeg", null), CancellationToken.None));

        var bytes = new byte[300_000];
        Random.Shared.NextBytes(bytes);
        var (path, temporary) = await folder.OutboundPathAsync(new EngineMedia(bytes, "video/mp4", null), CancellationToken.None);
        Assert.True(temporary);
        Assert.True(folder.Contains(path));
        Assert.StartsWith(Sha256(bytes) + "-", Path.GetFileName(path));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.part"));
    }

    [Fact]
    public void Leftovers_of_a_crash_are_removed_at_start()
    {
        var left = BridgeFile("left by a crash"u8.ToArray());
        var part = Path.Combine(_data.FullName, BridgeMediaFolder.FolderName, "1234-abcd.part");
        File.WriteAllText(part, "half");
        var outbound = Directory.CreateDirectory(Path.Combine(_data.FullName, BridgeMediaFolder.FolderName, "outbound")).FullName;
        File.WriteAllText(Path.Combine(outbound, "copy"), "copy");
        var stored = Path.Combine(_data.FullName, "media", "ab", "kept");
        Directory.CreateDirectory(Path.GetDirectoryName(stored)!);
        File.WriteAllText(stored, "kept");

        new BridgeMediaFolder(_data.FullName).CleanLeftovers(NullLogger.Instance);

        Assert.False(File.Exists(left));
        Assert.False(File.Exists(part));
        Assert.Empty(Directory.GetFiles(outbound));
        Assert.True(File.Exists(stored), "only the exchange folder is cleaned");
    }

    [Fact]
    public async Task The_media_store_adopts_a_file_by_moving_it_once_even_when_asked_again()
    {
        var store = new MediaStore(Path.Combine(_data.FullName, "media"));
        var bytes = "inbound video"u8.ToArray();
        var hash = Sha256(bytes);
        var path = BridgeFile(bytes);

        var adopted = await store.AdoptAsync(path, hash);
        Assert.Equal(new MediaFile(hash, bytes.Length), adopted);
        Assert.False(File.Exists(path));
        var storedPath = await store.GetLocalPathAsync(hash);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(storedPath!));
        Assert.True(File.GetLastWriteTimeUtc(storedPath!) > DateTime.UtcNow.AddMinutes(-1), "the retention clock starts at adoption");

        // A retried commit asks again after the file moved; a duplicate delivery brings the same file again.
        Assert.Equal(adopted, await store.AdoptAsync(path, hash));
        var again = BridgeFile(bytes);
        Assert.Equal(adopted, await store.AdoptAsync(again, hash));
        Assert.False(File.Exists(again));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data.FullName, "media", "staging")));
    }
}

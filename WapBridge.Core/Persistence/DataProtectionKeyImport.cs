using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Persistence;

/// <summary>
/// Brings the key files of releases that kept the Data Protection key ring in <c>&lt;DataDir&gt;/keys</c> into the
/// database ring, so what they encrypted (auth state, webhook secrets, signed media links) keeps decrypting on every node.
/// </summary>
public static class DataProtectionKeyImport
{
    /// <summary>
    /// Imports each <c>key-*.xml</c> not yet in the database, under the friendly name the file repository gave it
    /// (its file name), which is also how a second start recognises it. The files stay: an older release started on
    /// this data folder still finds them. Runs before anything protects or unprotects data, so the first key ring
    /// read already holds them (otherwise a node would mint a new key and cache a ring without the old ones).
    /// </summary>
    public static async Task<int> ImportAsync(IDbContextFactory<WapBridgeDbContext> factory, string keysDir, ILogger logger, CancellationToken ct = default)
    {
        if (!Directory.Exists(keysDir))
            return 0;
        var files = Directory.GetFiles(keysDir, "*.xml");
        if (files.Length == 0)
            return 0;
        await using var db = await factory.CreateDbContextAsync(ct);
        var known = (await db.DataProtectionKeys.Select(k => k.FriendlyName).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var imported = 0;
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (known.Contains(name))
                continue;
            XElement element;
            try
            {
                element = XElement.Load(file);
            }
            catch (System.Xml.XmlException e)
            {
                logger.LogWarning(e, "Skipped the Data Protection key file {File}: it is not valid XML", file);
                continue;
            }
            // The same text the EF repository stores for a key it made itself.
            db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = name, Xml = element.ToString(SaveOptions.DisableFormatting) });
            imported++;
        }
        if (imported > 0)
        {
            await db.SaveChangesAsync(ct);
            logger.LogInformation("Imported {Count} Data Protection keys from {Folder} into the database key ring; the files are left in place",
                imported, keysDir);
        }
        return imported;
    }
}

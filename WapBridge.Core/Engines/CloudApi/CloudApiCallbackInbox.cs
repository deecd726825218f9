using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>A Cloud API instance as its callback URL names it, with what checks Meta's calls (null credentials: unreadable or none).</summary>
public sealed record CloudApiCallbackTarget(int InstanceId, string Code, CloudApiCredentials? Credentials);

/// <summary>
/// Meta's calls to an instance's callback URL (contract §11): the verification handshake, and the signed POSTs, which
/// are stored before they are answered (Meta retries a callback that fails, not one answered 200 and then lost) and
/// processed afterwards where the instance lives (<see cref="CloudApiCallbackProcessor"/>).
/// </summary>
public sealed class CloudApiCallbackInbox(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IDataProtectionProvider dataProtection,
    IGrainFactory grains,
    TimeProvider time,
    ILogger<CloudApiCallbackInbox> logger)
{
    /// <summary>Meta's callbacks are a few kilobytes; anything near this is not one.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    private const string SignaturePrefix = "sha256=";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(InstanceCredentialStore.Purpose);

    /// <summary>The Cloud API instance <paramref name="instanceCode"/>, or null when there is none (or it runs another engine).</summary>
    public async Task<CloudApiCallbackTarget?> FindAsync(string instanceCode, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Instances.AsNoTracking().Where(i => i.Code == instanceCode && i.Engine == CloudApiEngine.EngineName)
            .Select(i => new { i.Id, i.Code, i.EngineCredentials }).SingleOrDefaultAsync(ct);
        return row is null ? null : new CloudApiCallbackTarget(row.Id, row.Code, Unseal(row.Code, row.EngineCredentials));
    }

    /// <summary>The credentials of instance <paramref name="instanceId"/>; null when it has none or they cannot be read.</summary>
    public async Task<CloudApiCredentials?> CredentialsAsync(int instanceId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Instances.AsNoTracking().Where(i => i.Id == instanceId).Select(i => new { i.Code, i.EngineCredentials }).SingleOrDefaultAsync(ct);
        return row is null ? null : Unseal(row.Code, row.EngineCredentials);
    }

    private CloudApiCredentials? Unseal(string instanceCode, string? sealedValue) =>
        CloudApiCredentials.Unseal(_protector, sealedValue, instanceCode, logger);

    /// <summary>Meta's handshake: <c>hub.mode=subscribe</c> and the instance's verify token (compared in constant time).</summary>
    public static bool IsVerification(CloudApiCredentials credentials, string? mode, string? verifyToken) =>
        mode == "subscribe" && verifyToken is not null && credentials.VerifyToken.Length > 0
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(verifyToken), Encoding.UTF8.GetBytes(credentials.VerifyToken));

    /// <summary>
    /// Whether <paramref name="signatureHeader"/> (<c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>) is the HMAC-SHA256 of
    /// exactly <paramref name="body"/> keyed with the app secret; compared in constant time.
    /// </summary>
    public static bool IsSigned(ReadOnlySpan<byte> body, string? signatureHeader, string appSecret)
    {
        if (string.IsNullOrEmpty(appSecret) || signatureHeader is null || !signatureHeader.StartsWith(SignaturePrefix, StringComparison.OrdinalIgnoreCase))
            return false;
        var hex = signatureHeader.AsSpan(SignaturePrefix.Length).Trim();
        if (hex.Length != HMACSHA256.HashSizeInBytes * 2)
            return false;
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(hex, given, out _, out var written) != System.Buffers.OperationStatus.Done || written != given.Length)
            return false;
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    /// <summary>
    /// Stores a signed callback for processing; once this returns, Meta may be told 200. A callback Meta sends again
    /// (the same bytes: our 200 never reached it) is stored once; false for such a copy.
    /// </summary>
    public async Task<bool> StoreAsync(int instanceId, string body, CancellationToken ct)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.CloudApiCallbacks.Add(new CloudApiCallback { InstanceId = instanceId, Body = body, BodySha256 = sha256, ReceivedAt = time.GetUtcNow() });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (DatabaseErrors.IsUniqueViolation(e))
        {
            logger.LogInformation("Meta sent a callback to instance {InstanceId} again; it is stored already", instanceId);
            return false;
        }
    }

    /// <summary>Tells the instance's actor, wherever it lives, that callbacks wait; not awaited by the caller's request.</summary>
    public void Nudge(string instanceCode) =>
        _ = grains.GetGrain<IInstanceGrain>(instanceCode).ProcessCloudApiCallbacksAsync().ContinueWith(
            t => logger.LogWarning(t.Exception, "Could not tell instance {Instance} about new Cloud API callbacks; the sweep will", instanceCode),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}

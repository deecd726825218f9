using System.Security.Cryptography;
using System.Text;

namespace WapBridge.Core.Accounts;

/// <summary>Key and secret formats, and the hash the secret is stored as.</summary>
public static class ApiKeyCredentials
{
    public const int KeyLength = 15;
    public const int SecretLength = 40;

    public static string NewKey() => RandomHex(KeyLength);

    public static string NewSecret() => RandomHex(SecretLength);

    public static byte[] HashSecret(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Constant-time comparison, so response timing reveals nothing about the stored hash.</summary>
    public static bool SecretMatches(string secret, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(HashSecret(secret), storedHash);

    public static bool IsWellFormedKey(string key) =>
        key.Length == KeyLength && key.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static string RandomHex(int length) =>
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes((length + 1) / 2))[..length];
}

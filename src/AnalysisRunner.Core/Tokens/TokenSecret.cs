using System.Security.Cryptography;
using System.Text;

namespace AnalysisRunner.Core.Tokens;

/// <summary>
/// Token secrets and what is kept of them. A secret carries 256 random bits, so an unsalted SHA-256
/// is enough: nothing can be guessed from the hash, and a stolen table gives no usable token.
/// The "art_" prefix lets secret scanners and people recognise one.
/// </summary>
internal static class TokenSecret
{
    public const string Prefix = "art_";
    private const int SecretBytes = 32;
    private static readonly int EncodedLength = Prefix.Length + Base64UrlLength(SecretBytes);

    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A public handle for listing and revoking: short, random, unrelated to the secret.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Whether the text has a secret's shape, so junk is refused without a database round trip.</summary>
    public static bool HasSecretShape(string text) =>
        text.Length == EncodedLength && text.StartsWith(Prefix, StringComparison.Ordinal)
        && text.AsSpan(Prefix.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    private static int Base64UrlLength(int bytes) => (bytes * 4 + 2) / 3;
}

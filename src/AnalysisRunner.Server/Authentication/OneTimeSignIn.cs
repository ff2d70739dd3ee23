using System.Security.Cryptography;
using System.Text;

namespace AnalysisRunner.Server.Authentication;

/// <summary>
/// The embedded web's sign-in link (as Jupyter's): one random secret at a time, good for one use. Only
/// its hash is kept, compared in constant time, and it is spent by the first request that shows it,
/// so a link copied from history, a log or over a shoulder after that opens nothing. Whoever reads the
/// console that started the server can sign in; other OS users, who can reach 127.0.0.1 too, cannot.
/// </summary>
public sealed class OneTimeSignIn
{
    private readonly Lock _gate = new();
    private byte[]? _current;

    /// <summary>A fresh secret for the next link; any earlier unspent one stops working.</summary>
    public string NewSecret()
    {
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        lock (_gate) _current = Hash(secret);
        return secret;
    }

    /// <summary>True once for the current secret; false for any other text, and for it again.</summary>
    public bool TrySpend(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > 256) return false;
        var hash = Hash(presented);
        lock (_gate)
        {
            if (_current is null || !CryptographicOperations.FixedTimeEquals(hash, _current)) return false;
            _current = null;
            return true;
        }
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}

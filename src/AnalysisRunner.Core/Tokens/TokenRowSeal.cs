using System.Globalization;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Tokens;

/// <summary>
/// What makes an api_tokens row in PostgreSQL the server's own: an HMAC with the runner home's run-token
/// key over every column that grants authority (id, token hash, user, admin flag, created, expires,
/// revoked). Whoever reaches the database without the key (a job, when the admin lets PostgreSQL in
/// without a password or by a route the server's password check does not try) can write rows, but not
/// rows that authenticate: a row whose seal does not hold is refused like an unknown token. So it cannot
/// invent a token for anyone, clear a revocation, push an expiry out or make a token an admin's.
/// <para>
/// Limit: the seal says the server wrote the row, not that the row is the newest it wrote. A job that
/// saved a token's row before the token was revoked can write that row back, and the token works again
/// for whoever still holds its secret (the hash in the row is not the secret). Expiry cannot be undone
/// that way (it is sealed from issue on), nor can a deleted token be given to anyone else.
/// </para>
/// runner.db needs none (SqliteTokenStore): only the home's owner, who holds the key, can write it.
/// </summary>
public sealed class TokenRowSeal
{
    private const string Purpose = "api token row";

    private readonly RunnerHome? _home;

    private TokenRowSeal(RunnerHome? home) => _home = home;

    /// <summary>Seals and checks with the home's run-token key (keys/run-token.key), which no sandboxed job can read.</summary>
    public static TokenRowSeal WithKeyOf(RunnerHome home) => new(home ?? throw new ArgumentNullException(nameof(home)));

    /// <summary>
    /// No key: rows are written without a seal and every row is believed, as before seals. Only for a server
    /// that names no runner home, so has no key and runs no jobs; it says so (<see cref="UnkeyedWarning"/>).
    /// </summary>
    public static TokenRowSeal Unkeyed { get; } = new(null);

    public bool IsKeyed => _home is not null;

    public const string UnkeyedWarning =
        "API tokens in PostgreSQL are not sealed: this server names no runner home ([runner] home), so it has no key to seal them with. " +
        "Anyone who can write the database can write themselves a token; set [runner] home to seal them (tokens issued until then stop working).";

    /// <summary>The seal of a row as it would be stored; null when unkeyed.</summary>
    internal string? Of(TokenInfo token, string tokenHash)
    {
        if (_home is null) return null;
        try
        {
            return Convert.ToHexString(RunTokens.Sign(_home, Purpose, Text(token, tokenHash)));
        }
        catch (UnauthorizedAccessException denied)
        {
            // The admin command run as another user than the server's: say which file, not a stack trace.
            throw new AnalysisRunnerException("TokenSealKeyUnreadable", ErrorKind.PermissionDenied, _home.RunTokenKeyPath,
                $"Tokens are sealed with the runner home's key '{_home.RunTokenKeyPath}', which this user cannot read ({denied.Message}); " +
                "run this as the user the server runs as.");
        }
    }

    /// <summary>Whether the stored <paramref name="presented"/> seal is this row's (compared in constant time); always when unkeyed.</summary>
    internal bool Holds(TokenInfo token, string tokenHash, string? presented) =>
        Of(token, tokenHash) is not { } expected || RunTokens.SignatureMatches(expected, presented);

    /// <summary>
    /// One line per field, invariant. Times in whole microseconds since the epoch, what timestamptz keeps, so a
    /// value read back gives the text it was sealed with. Only the user is free text, and it holds no whitespace
    /// (TokenRules.NormalizeUser), so no sealed row's lines can be read as another row's.
    /// </summary>
    private static string Text(TokenInfo token, string tokenHash) => string.Join('\n',
        token.Id, tokenHash, token.User, token.Admin ? "admin" : "user",
        Microseconds(token.CreatedAt), Microseconds(token.ExpiresAt), Microseconds(token.RevokedAt));

    private static string Microseconds(DateTimeOffset? time) => time is { } at
        ? ((at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond).ToString(CultureInfo.InvariantCulture)
        : "-";
}

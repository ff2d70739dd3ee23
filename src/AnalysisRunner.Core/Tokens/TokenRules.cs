namespace AnalysisRunner.Core.Tokens;

/// <summary>The checks every store applies before it writes, so backends cannot disagree on them.</summary>
internal static class TokenRules
{
    /// <summary>Not written more often than this: a busy client would otherwise turn every request into a write.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Emails compare case-insensitively everywhere, so they are kept in one case.</summary>
    public static string NormalizeUser(string user)
    {
        var trimmed = user?.Trim() ?? "";
        var at = trimmed.IndexOf('@');
        if (at <= 0 || at != trimmed.LastIndexOf('@') || at == trimmed.Length - 1 || trimmed.Any(char.IsWhiteSpace))
            throw TokenErrors.InvalidUser(user ?? "");
        return trimmed.ToLowerInvariant();
    }

    public static void CheckExpiry(DateTimeOffset? expires, DateTimeOffset now)
    {
        if (expires is { } at && at <= now) throw TokenErrors.ExpiryInPast(at);
    }

    /// <summary>
    /// Throws why a token found by its secret does not work now (revoked, expired); the same words from every store.
    /// A row the server did not seal gets the answer an unknown secret gets: it is no token of this server's.
    /// </summary>
    public static void EnsureUsable(TokenInfo token)
    {
        switch (token.State)
        {
            case TokenState.Unsealed: throw TokenAuthenticationException.Invalid();
            case TokenState.Revoked: throw TokenAuthenticationException.Revoked(token);
            case TokenState.Expired: throw TokenAuthenticationException.Expired(token);
        }
    }

    public static bool ShouldRecordUse(TokenInfo token, DateTimeOffset now) =>
        token.LastUsedAt is null || now - token.LastUsedAt >= LastUsedResolution;

    /// <summary>Stores keep milliseconds (SQLite's integers, PostgreSQL's microseconds), so both give back equal values.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time) =>
        DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
}

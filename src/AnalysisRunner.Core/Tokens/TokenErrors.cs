namespace AnalysisRunner.Core.Tokens;

/// <summary>
/// A bearer token did not identify anyone. The ErrorIds tell the holder what to do
/// (TokenMissing, TokenInvalid, TokenExpired, TokenRevoked); the server answers 401 to all of them.
/// </summary>
public sealed class TokenAuthenticationException(string errorId, string message)
    : AnalysisRunnerException(errorId, ErrorKind.AuthenticationError, null, message)
{
    public static TokenAuthenticationException Missing() => new("TokenMissing",
        "This request needs a bearer token (Authorization: Bearer <token>). An admin issues one with New-AnalysisRunnerToken; " +
        "Set-AnalysisRunnerServer -Token stores it for the module.");

    public static TokenAuthenticationException Invalid() => new("TokenInvalid",
        "The bearer token is not one this server issued. Check AR_TOKEN or the token Set-AnalysisRunnerServer stored.");

    public static TokenAuthenticationException Expired(TokenInfo token) => new("TokenExpired",
        $"The bearer token {token.Id} expired at {token.ExpiresAt:u}; ask an admin for a new one (New-AnalysisRunnerToken).");

    public static TokenAuthenticationException Revoked(TokenInfo token) => new("TokenRevoked",
        $"The bearer token {token.Id} was revoked at {token.RevokedAt:u}; ask an admin for a new one (New-AnalysisRunnerToken).");
}

internal static class TokenErrors
{
    public static AnalysisRunnerException NotFound(string id) => new("TokenNotFound", ErrorKind.ObjectNotFound, id,
        $"There is no token with id '{id}'; Get-AnalysisRunnerToken -IncludeInactive lists them.");

    public static AnalysisRunnerException InvalidUser(string user) => new("InvalidTokenUser", ErrorKind.InvalidArgument, user,
        $"A token is issued to an email address (user@host), not '{user}'.");

    public static AnalysisRunnerException ExpiryInPast(DateTimeOffset expires) => new("InvalidTokenExpiry", ErrorKind.InvalidArgument, expires,
        $"The expiry {expires:u} has already passed; give a time in the future.");
}

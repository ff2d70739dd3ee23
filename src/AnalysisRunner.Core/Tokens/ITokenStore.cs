namespace AnalysisRunner.Core.Tokens;

/// <summary>
/// What an admin does with tokens. Implemented by the stores (the embedded home's owner, or the
/// server's own admin command, writes the store directly) and by the HTTP client (an admin token
/// asks the server).
/// </summary>
public interface ITokenAdministration
{
    /// <summary>Issues a random token for <see cref="TokenRequest.User"/>; its secret is returned once and stored only as a hash.</summary>
    Task<IssuedToken> IssueAsync(TokenRequest request, CancellationToken cancellationToken = default);

    /// <summary>Tokens newest first; never their secrets.</summary>
    Task<IReadOnlyList<TokenInfo>> ListAsync(TokenQuery query, CancellationToken cancellationToken = default);

    /// <summary>Revokes one token for good (TokenNotFound if there is none). Revoking twice keeps the first time.</summary>
    Task<TokenInfo> RevokeAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Revokes every token of a user that still works; returns those it revoked.</summary>
    Task<IReadOnlyList<TokenInfo>> RevokeUserAsync(string user, CancellationToken cancellationToken = default);
}

/// <summary>
/// The store of bearer tokens: SQLite in an embedded runner home, PostgreSQL on the server.
/// Both pass one contract suite (tests/…/Tokens/TokenStoreContract.cs).
/// </summary>
public interface ITokenStore : ITokenAdministration
{
    /// <summary>
    /// The token a bearer secret stands for, if it works now: unknown, expired and revoked secrets
    /// throw <see cref="TokenAuthenticationException"/>. Records when it was last used.
    /// </summary>
    Task<TokenInfo> AuthenticateAsync(string secret, CancellationToken cancellationToken = default);

    /// <summary>One token by id, whatever its state, or null.</summary>
    Task<TokenInfo?> FindAsync(string id, CancellationToken cancellationToken = default);
}

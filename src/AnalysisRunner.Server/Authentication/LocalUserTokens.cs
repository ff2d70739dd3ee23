using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.Server.Authentication;

/// <summary>
/// The embedded web's view of the runner home's token store: only tokens of the local user sign a
/// browser in. The home may hold tokens for others (its owner issues them), but the embedded web has
/// one identity, so a token of anyone else is refused as if it were unknown.
/// </summary>
internal sealed class LocalUserTokens(ITokenStore home, string localUser) : ITokenStore
{
    public async Task<TokenInfo> AuthenticateAsync(string secret, CancellationToken cancellationToken = default)
    {
        var token = await home.AuthenticateAsync(secret, cancellationToken);
        return string.Equals(token.User, localUser, StringComparison.OrdinalIgnoreCase) ? token : throw TokenAuthenticationException.Invalid();
    }

    public Task<IssuedToken> IssueAsync(TokenRequest request, CancellationToken cancellationToken = default) => home.IssueAsync(request, cancellationToken);
    public Task<IReadOnlyList<TokenInfo>> ListAsync(TokenQuery query, CancellationToken cancellationToken = default) => home.ListAsync(query, cancellationToken);
    public Task<TokenInfo> RevokeAsync(string id, CancellationToken cancellationToken = default) => home.RevokeAsync(id, cancellationToken);
    public Task<IReadOnlyList<TokenInfo>> RevokeUserAsync(string user, CancellationToken cancellationToken = default) => home.RevokeUserAsync(user, cancellationToken);
    public Task<TokenInfo?> FindAsync(string id, CancellationToken cancellationToken = default) => home.FindAsync(id, cancellationToken);
}

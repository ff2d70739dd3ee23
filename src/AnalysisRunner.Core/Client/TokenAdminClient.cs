using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.Core.Client;

/// <summary>Token administration on a server, for a caller whose token has the admin role (others get 403 AdminRoleRequired).</summary>
public sealed class TokenAdminClient(ServerConnection connection, HttpMessageHandler? handler = null)
    : RunnerHttpClient(connection, handler), ITokenAdministration
{
    public Task<IssuedToken> IssueAsync(TokenRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<IssuedToken>(HttpMethod.Post, ApiRoutes.AdminTokens, new AdminTokenRequest
        {
            User = request.User, ExpiresAt = request.ExpiresAt, Admin = request.Admin, Description = request.Description,
        }, cancellationToken);

    public async Task<IReadOnlyList<TokenInfo>> ListAsync(TokenQuery query, CancellationToken cancellationToken = default) =>
        await SendAsync<List<TokenInfo>>(HttpMethod.Get,
            ApiRoutes.AdminTokens + Query(("user", query.User), ("includeInactive", query.IncludeInactive ? "true" : null)), null,
            cancellationToken);

    public Task<TokenInfo> RevokeAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<TokenInfo>(HttpMethod.Delete, ApiRoutes.AdminTokens + "/" + Uri.EscapeDataString(id), null, cancellationToken);

    public async Task<IReadOnlyList<TokenInfo>> RevokeUserAsync(string user, CancellationToken cancellationToken = default) =>
        await SendAsync<List<TokenInfo>>(HttpMethod.Delete, ApiRoutes.AdminTokens + Query(("user", user)), null, cancellationToken);

    /// <summary>Tokens of the caller (no admin role needed).</summary>
    public async Task<IReadOnlyList<TokenInfo>> ListOwnAsync(CancellationToken cancellationToken = default) =>
        await SendAsync<List<TokenInfo>>(HttpMethod.Get, ApiRoutes.Tokens, null, cancellationToken);

    /// <summary>A new token for the caller (no admin role needed; the server decides whom it is for).</summary>
    public Task<IssuedToken> IssueOwnAsync(OwnTokenRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<IssuedToken>(HttpMethod.Post, ApiRoutes.Tokens, request, cancellationToken);
}

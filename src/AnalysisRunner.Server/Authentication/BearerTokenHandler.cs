using System.Security.Claims;
using System.Text.Encodings.Web;
using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AnalysisRunner.Server.Authentication;

/// <summary>
/// The only way a request gets an identity: "Authorization: Bearer &lt;token&gt;", looked up in the
/// token store. Nothing in a request's body, query or other headers names the caller. A missing,
/// unknown, expired or revoked token gets 401 with a problem detail saying which, and a
/// WWW-Authenticate header (RFC 6750).
/// </summary>
internal sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ITokenStore tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string TokenIdClaim = "ar:token_id";
    public const string ExpiresClaim = "ar:expires";
    public const string AdminRole = "admin";
    private const string Realm = "AnalysisRunner";
    private static readonly object FailureKey = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase))
            return Fail(TokenAuthenticationException.Invalid());

        TokenInfo token;
        try
        {
            token = await tokens.AuthenticateAsync(header[(SchemeName.Length + 1)..].Trim(), Context.RequestAborted);
        }
        catch (TokenAuthenticationException error)
        {
            return Fail(error);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(Principal(token, SchemeName), SchemeName));
    }

    /// <summary>The claims a token stands for, whichever way it arrived (this header, or a page's session cookie).</summary>
    public static ClaimsPrincipal Principal(TokenInfo token, string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, token.User),
            new(ClaimTypes.Email, token.User),
            new(TokenIdClaim, token.Id),
        };
        if (token.ExpiresAt is { } expires) claims.Add(new Claim(ExpiresClaim, expires.ToString("O")));
        if (token.Admin) claims.Add(new Claim(ClaimTypes.Role, AdminRole));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var error = Context.Items[FailureKey] as TokenAuthenticationException ?? TokenAuthenticationException.Missing();
        Response.Headers.WWWAuthenticate = error.ErrorId == "TokenMissing"
            ? $"{SchemeName} realm=\"{Realm}\""
            : $"{SchemeName} realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{error.ErrorId}\"";
        return ProblemWriter.WriteAsync(Context, error);
    }

    private AuthenticateResult Fail(TokenAuthenticationException error)
    {
        Context.Items[FailureKey] = error;
        return AuthenticateResult.Fail(error.Message);
    }
}

using System.Text.Encodings.Web;
using AnalysisRunner.Core.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AnalysisRunner.Server.Authentication;

/// <summary>
/// How a browser is someone: the token it signed in with (/signin), kept in an HttpOnly, SameSite=Strict
/// cookie (Secure on https) and looked up in the token store on every request, so an expired or revoked
/// token ends the session at once. Only the web pages accept it; the JSON API takes the bearer header
/// alone, so no state-changing API call can ride on a cookie (CSRF). An anonymous page request is sent
/// to the sign-in form; a refused one gets an HTML 403.
/// </summary>
internal sealed class SessionCookieHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ITokenStore tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "SessionCookie";
    public const string CookieName = "ar_session";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Cookies.TryGetValue(CookieName, out var secret) || string.IsNullOrEmpty(secret)) return AuthenticateResult.NoResult();
        try
        {
            var token = await tokens.AuthenticateAsync(secret, Context.RequestAborted);
            return AuthenticateResult.Success(new AuthenticationTicket(BearerTokenHandler.Principal(token, SchemeName), SchemeName));
        }
        catch (TokenAuthenticationException error)
        {
            return AuthenticateResult.Fail(error.Message);
        }
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Redirect(Web.SignInEndpoints.SignInPath + "?returnUrl=" + Uri.EscapeDataString(Request.Path + Request.QueryString));
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Web.Pages.ErrorPage.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden", "Your token does not allow this page.");

    /// <summary>Sets the session cookie for a token that has just authenticated.</summary>
    public static void SignIn(HttpContext context, string secret, DateTimeOffset? expires) =>
        context.Response.Cookies.Append(CookieName, secret, CookieSettings(context, expires));

    public static void SignOut(HttpContext context) => context.Response.Cookies.Delete(CookieName, CookieSettings(context, null));

    private static CookieOptions CookieSettings(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };
}

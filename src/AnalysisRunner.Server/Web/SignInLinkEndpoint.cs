using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Hosting;
using AnalysisRunner.Server.Web.Pages;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// The embedded web's one-time link: /signin/link?secret=… spends the secret, issues the local user a
/// token in the runner home (12 hours) and sets it as the usual HttpOnly SameSite session cookie, then
/// sends the browser on to "/" (so the secret leaves the address bar). A spent, forged or missing
/// secret is 403 SignInLinkInvalid and sets nothing. The console is given a fresh link for the next browser.
/// </summary>
internal static class SignInLinkEndpoint
{
    public const string Path = "/signin/link";
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(12);

    public static void MapSignInLink(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, SignInAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<IResult> SignInAsync(HttpContext context, OneTimeSignIn links, EmbeddedWeb web, ITokenStore tokens,
        TimeProvider clock, string? secret)
    {
        // The secret is in this address: it must not travel on as a Referer.
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        if (!links.TrySpend(secret))
            return ErrorPage.Result(context, StatusCodes.Status403Forbidden, "SignInLinkInvalid",
                "This sign-in link is not valid: each link signs in one browser once. The console that started the web prints a fresh one.");
        IssuedToken issued;
        try
        {
            issued = await tokens.IssueAsync(new TokenRequest
            {
                User = web.User,
                ExpiresAt = clock.GetUtcNow() + SessionLifetime,
                Description = "embedded web sign-in link",
                CreatedBy = web.User,
            }, context.RequestAborted);
        }
        finally
        {
            // The secret is spent either way: the console gets the next one even if this sign-in failed.
            web.AnnounceLink(links.NewSecret());
        }
        SessionCookieHandler.SignIn(context, issued.Token, issued.ExpiresAt);
        context.Response.Headers.Location = "/";
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }
}

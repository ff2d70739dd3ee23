using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Web.Pages;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// Signing a browser in with a token and out again. Both forms carry an antiforgery token (another
/// site cannot sign a browser in as the attacker, nor out), and the place to go back to is only ever
/// a path of this server, never another site.
/// </summary>
internal static class SignInEndpoints
{
    public const string SignInPath = "/signin";
    public const string SignOutPath = "/signout";

    public static void MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(SignInPath, (HttpContext context, IAntiforgery antiforgery, string? returnUrl) =>
            Form(context, antiforgery, LocalPath(returnUrl), null, StatusCodes.Status200OK)).AllowAnonymous().ExcludeFromDescription();
        app.MapPost(SignInPath, SignInAsync).AllowAnonymous().ExcludeFromDescription();
        // The form parameter is what makes the framework check the form's antiforgery token (400 without it).
        app.MapPost(SignOutPath, (HttpContext context, [FromForm(Name = "signOut")] string? signOut) =>
        {
            SessionCookieHandler.SignOut(context);
            return Results.Redirect(SignInPath, permanent: false);
        }).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, ITokenStore tokens,
        [FromForm] string? token, [FromForm] string? returnUrl)
    {
        var target = LocalPath(returnUrl);
        try
        {
            var info = await tokens.AuthenticateAsync((token ?? "").Trim(), context.RequestAborted);
            SessionCookieHandler.SignIn(context, token!.Trim(), info.ExpiresAt);
            // 303: the browser follows with a GET, so a reload does not post the token again.
            context.Response.Headers.Location = target;
            return Results.StatusCode(StatusCodes.Status303SeeOther);
        }
        catch (TokenAuthenticationException error)
        {
            return Form(context, antiforgery, target, error.Message, StatusCodes.Status401Unauthorized);
        }
    }

    private static IResult Form(HttpContext context, IAntiforgery antiforgery, string returnUrl, string? error, int status)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        var message = error is null ? Html.Empty : Html.Of($"""<p class="error">{error}</p>""");
        return PageLayout.Page(context, "Sign in", Html.Of($"""
            {message}
            <form method="post" action="{SignInPath}">
            <input type="hidden" name="{tokens.FormFieldName}" value="{tokens.RequestToken}">
            <input type="hidden" name="returnUrl" value="{returnUrl}">
            <p><label>Token <input type="password" name="token" autocomplete="off" required size="60"></label></p>
            <p><button type="submit">Sign in</button></p>
            </form>
            <p>A token comes from <code>New-AnalysisRunnerToken</code> (your admin) or <code>POST /api/v1/tokens</code>.</p>
            """), status);
    }

    /// <summary>Only a path of this server ("/x", not "//evil" or "/\evil", which browsers take as another host); anything else is "/".</summary>
    public static string LocalPath(string? returnUrl) =>
        returnUrl is { Length: > 0 } && returnUrl[0] == '/' && (returnUrl.Length == 1 || (returnUrl[1] != '/' && returnUrl[1] != '\\'))
            && !returnUrl.Any(char.IsControl)
            ? returnUrl
            : "/";
}

using System.Text;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>
/// The frame of every page, and the headers that make injected markup inert even if something slipped
/// through encoding: scripts and styles only from this server's own /static files (no inline script),
/// no framing, no plugins.
/// </summary>
public static class PageLayout
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IResult Page(HttpContext context, string title, Html body, int status = StatusCodes.Status200OK) =>
        new HtmlResult(Document(context, title, body), status);

    public static Html Document(HttpContext context, string title, Html body)
    {
        var user = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null;
        var who = Html.Empty;
        if (user is not null)
        {
            var tokens = context.RequestServices.GetRequiredService<Microsoft.AspNetCore.Antiforgery.IAntiforgery>().GetAndStoreTokens(context);
            who = Html.Of($"""<span class="who">{user}</span> <form class="inline" method="post" action="{SignInEndpoints.SignOutPath}"><input type="hidden" name="{tokens.FormFieldName}" value="{tokens.RequestToken}"><button>Sign out</button></form>""");
        }
        return Html.Of($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · AnalysisRunner</title>
            <link rel="stylesheet" href="{StaticFiles.StylePath}">
            <script src="{StaticFiles.FollowScriptPath}" defer></script>
            </head>
            <body>
            <header><a class="home" href="/">AnalysisRunner</a> {who}</header>
            <main>
            <h1>{title}</h1>
            {body}
            </main>
            </body>
            </html>
            """);
    }

    /// <summary>Writes a page with the security headers; antiforgery's own cookie is added by the form that needs it.</summary>
    internal sealed class HtmlResult(Html html, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            Secure(context.Response);
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(html.ToString(), Encoding.UTF8, context.RequestAborted);
        }
    }

    public static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.CacheControl = "no-store";
    }
}

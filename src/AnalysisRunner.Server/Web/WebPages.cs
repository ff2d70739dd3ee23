using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Web.Pages;
using Microsoft.AspNetCore.Authorization;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// The pages. Each is signed in with the session cookie (never the bearer header, never a token in the
/// URL) and checks the caller against the dataset the page belongs to, as the read endpoints do.
/// </summary>
internal static class WebPages
{
    public static void MapWebPages(this IEndpointRouteBuilder app)
    {
        app.MapStaticFiles();
        app.MapSignIn();
        var pages = app.MapGroup("")
            .RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = SessionCookieHandler.SchemeName })
            .AddEndpointFilter(ErrorPage.CatchAsync)
            .ExcludeFromDescription();
        pages.MapGet("/", HomePage.Render);
        pages.MapGet("/analysis-runner/{datasetNamespace}", (HttpContext context, RunnerReader reader, string datasetNamespace,
                string? user, DateOnly? from, DateOnly? to, string? q, string? after) =>
            AuditLogPage.RenderAsync(context, reader, datasetNamespace, user, from, to, q, after));
        pages.MapGet("/batches/{batchId:long}", BatchPage.RenderAsync);
        pages.MapGet("/batches/{batchId:long}/jobs/{jobId:int}", JobPage.RenderAsync);
        pages.MapGet("/batches/{batchId:long}/jobs/{jobId:int}/attempts/{attempt:int}/{stream}/events", LogEvents.StreamAsync);
        pages.MapGet("/configs/{arGuid}", ConfigPage.RenderAsync);
        pages.MapGet("/usage/{dataset}", UsagePage.Render);
        pages.MapGet(WebBucketEndpoint.Route, WebBucketEndpoint.ServeAsync);
    }
}

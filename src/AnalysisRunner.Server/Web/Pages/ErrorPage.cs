using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>
/// A page's refusal as a page: the same status and ErrorId the API would give (ErrorStatus), in HTML,
/// so a browser shows a 403 NotADatasetMember rather than a JSON document.
/// </summary>
public static class ErrorPage
{
    public static Task WriteAsync(HttpContext context, int status, string errorId, string message) =>
        Result(context, status, errorId, message).ExecuteAsync(context);

    public static IResult Result(HttpContext context, int status, string errorId, string message) =>
        PageLayout.Page(context, $"{status} {errorId}", Html.Of($"""<p class="error" data-error-id="{errorId}">{message}</p>"""), status);

    /// <summary>Turns Core's errors thrown by a page into their error page; anything else stays the exception handler's.</summary>
    public static async ValueTask<object?> CatchAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (AnalysisRunnerException error)
        {
            return Result(context.HttpContext, ErrorStatus.ToStatus(error.Kind), error.ErrorId, error.Message);
        }
    }
}

using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Server.Problems;

/// <summary>Writes a problem detail for one of Core's exceptions, with the status the one mapping (<see cref="ErrorStatus"/>) gives it.</summary>
internal static class ProblemWriter
{
    /// <summary>
    /// Sent with every 503 (PostgreSQL down, a driver batch still to be made): the condition passes by
    /// itself, so a client may ask again; our client backs off from this (1, 2, 4… s, see ServerRetry).
    /// </summary>
    public const int RetryAfterSeconds = 1;

    public static Task WriteAsync(HttpContext context, AnalysisRunnerException error)
    {
        var problem = ProblemDocument.From(error, context.Request.Path);
        context.Response.StatusCode = problem.Status;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return context.Response.WriteAsJsonAsync(problem, ApiJson.Options, ProblemDocument.MediaType, context.RequestAborted);
    }
}

using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Server.Problems;

/// <summary>Writes a problem detail for one of Core's exceptions, with the status the one mapping (<see cref="ErrorStatus"/>) gives it.</summary>
internal static class ProblemWriter
{
    public static Task WriteAsync(HttpContext context, AnalysisRunnerException error)
    {
        var problem = ProblemDocument.From(error, context.Request.Path);
        context.Response.StatusCode = problem.Status;
        return context.Response.WriteAsJsonAsync(problem, ApiJson.Options, ProblemDocument.MediaType, context.RequestAborted);
    }
}

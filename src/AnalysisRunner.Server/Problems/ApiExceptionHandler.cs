using System.Text.Json;
using AnalysisRunner.Core;
using AnalysisRunner.Server.Hosting;
using Microsoft.AspNetCore.Diagnostics;

namespace AnalysisRunner.Server.Problems;

/// <summary>
/// Every error leaves the server as a problem detail carrying an ErrorId. Core's exceptions keep
/// theirs; the framework's refusals of a request (malformed JSON, a body over the limit) get ours;
/// anything else is a 500 that names no internals (it is logged here instead).
/// </summary>
internal sealed class ApiExceptionHandler(ServerSettings settings, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted) return false;
        var error = ToError(exception);
        if (error is null)
        {
            logger.LogError(exception, "Unhandled error in {Method} {Path}", context.Request.Method, context.Request.Path);
            error = new AnalysisRunnerException("InternalServerError", ErrorKind.NotSpecified, null,
                "The server failed to handle this request; its log has the details.");
        }
        else if (error.Kind == ErrorKind.ResourceUnavailable)
        {
            logger.LogWarning("{ErrorId} in {Method} {Path}: {Message} ({Where})", error.ErrorId, context.Request.Method, context.Request.Path,
                error.Message, error.Data["database"]);
        }
        await ProblemWriter.WriteAsync(context, error);
        return true;
    }

    private AnalysisRunnerException? ToError(Exception exception) => exception switch
    {
        AnalysisRunnerException error => error,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => RequestErrors.BodyTooLarge(settings.MaxRequestBodyBytes),
        BadHttpRequestException { InnerException: JsonException json } => RequestErrors.MalformedJson(json.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } bad =>
            new AnalysisRunnerException("UnsupportedMediaType", ErrorKind.InvalidArgument, null, bad.Message + " Send application/json."),
        BadHttpRequestException bad => new AnalysisRunnerException("BadRequest", ErrorKind.InvalidArgument, null, bad.Message),
        _ => null,
    };
}

internal static class RequestErrors
{
    public static AnalysisRunnerException BodyTooLarge(long limit) => new("RequestBodyTooLarge", ErrorKind.LimitsExceeded, limit,
        $"The request body is larger than this server accepts ({limit} bytes; server.max_request_body_bytes in its settings).");

    public static AnalysisRunnerException MalformedJson(string reason) => new("MalformedJson", ErrorKind.InvalidArgument, null,
        $"The request body is not valid JSON for this endpoint: {reason}");
}

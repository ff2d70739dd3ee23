namespace AnalysisRunner.Core.Http;

/// <summary>
/// The one mapping between Core's <see cref="ErrorKind"/> and HTTP status codes. The server answers
/// every <see cref="AnalysisRunnerException"/> with <see cref="ToStatus"/>; a client reads the kind
/// back from the problem's "kind" member, and only falls back to <see cref="FromStatus"/> for
/// answers that did not come from our code (a proxy's 502, the framework's 404 for an unknown route).
/// </summary>
public static class ErrorStatus
{
    public static int ToStatus(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument or ErrorKind.InvalidData => 400,
        ErrorKind.AuthenticationError => 401,
        ErrorKind.PermissionDenied => 403,
        ErrorKind.ObjectNotFound => 404,
        // A batch that failed or was stopped (BatchFailed, BatchCancelled) conflicts with what was asked of it.
        ErrorKind.InvalidOperation or ErrorKind.OperationStopped or ErrorKind.InvalidResult => 409,
        ErrorKind.LimitsExceeded => 413,
        ErrorKind.ResourceUnavailable => 503,
        ErrorKind.OperationTimeout => 504,
        _ => 500,
    };

    public static ErrorKind FromStatus(int status) => status switch
    {
        400 or 405 or 406 or 415 or 422 => ErrorKind.InvalidArgument,
        401 => ErrorKind.AuthenticationError,
        403 => ErrorKind.PermissionDenied,
        404 or 410 => ErrorKind.ObjectNotFound,
        409 => ErrorKind.InvalidOperation,
        413 or 429 => ErrorKind.LimitsExceeded,
        408 or 504 => ErrorKind.OperationTimeout,
        502 or 503 => ErrorKind.ResourceUnavailable,
        _ => ErrorKind.NotSpecified,
    };
}

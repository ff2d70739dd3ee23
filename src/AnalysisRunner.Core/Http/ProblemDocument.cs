using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnalysisRunner.Core.Http;

/// <summary>
/// An RFC 7807 problem detail as the server writes it: the standard members plus the ErrorId, the
/// kind and the offending value of the <see cref="AnalysisRunnerException"/> behind it, so a client
/// can raise the same exception the embedded mode would have (and the cmdlets the same ErrorRecord).
/// </summary>
public sealed record ProblemDocument
{
    public const string MediaType = "application/problem+json";
    private const string TypePrefix = "urn:analysis-runner:error:";

    [JsonPropertyName("type")] public string Type { get; init; } = "about:blank";
    [JsonPropertyName("title")] public string? Title { get; init; }
    [JsonPropertyName("status")] public int Status { get; init; }
    [JsonPropertyName("detail")] public string? Detail { get; init; }
    [JsonPropertyName("instance")] public string? Instance { get; init; }
    [JsonPropertyName("errorId")] public string? ErrorId { get; init; }
    [JsonPropertyName("kind")] public string? Kind { get; init; }
    [JsonPropertyName("target")] public JsonElement? Target { get; init; }

    public static ProblemDocument From(AnalysisRunnerException error, string? instance = null)
    {
        var status = ErrorStatus.ToStatus(error.Kind);
        return new ProblemDocument
        {
            Type = TypePrefix + error.ErrorId,
            Title = error.ErrorId,
            Status = status,
            Detail = error.Message,
            Instance = instance,
            ErrorId = error.ErrorId,
            Kind = error.Kind.ToString(),
            Target = TargetToJson(error.Target),
        };
    }

    /// <summary>The exception this problem stands for. A problem without our members (a proxy's, the framework's) gets its kind from the status.</summary>
    public ServerProblemException ToException(int httpStatus)
    {
        var status = Status != 0 ? Status : httpStatus;
        var kind = Kind is not null && Enum.TryParse<ErrorKind>(Kind, ignoreCase: false, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : ErrorStatus.FromStatus(status);
        var errorId = string.IsNullOrWhiteSpace(ErrorId) ? "ServerError" + status : ErrorId;
        var message = Detail ?? Title ?? $"The server answered {status}.";
        return new ServerProblemException(errorId, kind, TargetFromJson(Target), message, status, this);
    }

    /// <summary>Plain values travel as themselves; anything else as its text, since a client cannot rebuild Core's types from JSON.</summary>
    private static JsonElement? TargetToJson(object? target) => target switch
    {
        null => null,
        string or bool or int or long or double or decimal => JsonSerializer.SerializeToElement(target, target.GetType()),
        System.Collections.IEnumerable items => JsonSerializer.SerializeToElement(items.Cast<object?>().Select(i => i?.ToString()).ToArray()),
        _ => JsonSerializer.SerializeToElement(target.ToString()),
    };

    private static object? TargetFromJson(JsonElement? target) => target switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } e => e.GetString(),
        { ValueKind: JsonValueKind.Number } e => e.TryGetInt64(out var whole) ? (object)whole : e.GetDouble(),
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.Array } e => e.EnumerateArray().Select(i => TargetFromJson(i)).ToArray(),
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { } e => e.GetRawText(),
    };
}

/// <summary>An error the server reported as a problem detail, raised on the client with the server's ErrorId, kind and target.</summary>
public sealed class ServerProblemException(string errorId, ErrorKind kind, object? target, string message, int status, ProblemDocument problem)
    : AnalysisRunnerException(errorId, kind, target, message)
{
    public int Status { get; } = status;
    public ProblemDocument Problem { get; } = problem;
}

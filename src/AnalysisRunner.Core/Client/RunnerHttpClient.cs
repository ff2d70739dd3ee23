using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// What every HTTP client of the server shares: the bearer token on each request, JSON in and out
/// with the server's settings, and problem details turned back into the exception the embedded
/// mode would have thrown (same ErrorId, kind and target), so one ErrorRecord mapping serves both.
/// </summary>
public class RunnerHttpClient : IDisposable
{
    private readonly HttpClient _http;

    public RunnerHttpClient(ServerConnection connection, HttpMessageHandler? handler = null, ServerRetry? retry = null)
    {
        Connection = connection ?? throw new ArgumentNullException(nameof(connection));
        Retry = retry ?? ServerRetry.Default;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = connection.Server;
        _http.Timeout = TimeSpan.FromSeconds(100);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(ProblemDocument.MediaType));
        if (connection.Token is not null)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", connection.Token);
    }

    public ServerConnection Connection { get; }

    /// <summary>How 503 answers to requests that are <see cref="Repeatable"/> are asked again.</summary>
    public ServerRetry Retry { get; }

    /// <summary>
    /// Whether a request may be sent again after a 503 (see <see cref="ServerRetry"/>). None is here: a
    /// health check reports the 503, and a write sent twice may be done twice. A client whose requests
    /// are safe to repeat says which.
    /// </summary>
    protected virtual bool Repeatable(HttpMethod method, string path, IReadOnlyList<(string Name, string Value)> headers) => false;

    public Task<HealthReport> GetHealthAsync(CancellationToken cancellationToken = default) =>
        SendAsync<HealthReport>(HttpMethod.Get, ApiRoutes.Health, null, cancellationToken);

    public Task<CallerInfo> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        SendAsync<CallerInfo>(HttpMethod.Get, ApiRoutes.WhoAmI, null, cancellationToken);

    /// <summary>Sends one request; a success answer is read as <typeparamref name="T"/>, anything else becomes an exception.</summary>
    protected Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        SendAsync<T>(method, path, body, [], cancellationToken);

    /// <summary>As above, with request headers of ours (<see cref="ApiHeaders"/>).</summary>
    protected async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, IReadOnlyList<(string Name, string Value)> headers,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        using var response = await SendAnsweredAsync(method, path, body, headers, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, cancellationToken)
                   ?? throw new JsonException("The answer was JSON null.");
        }
        catch (Exception error) when (error is JsonException or NotSupportedException)
        {
            throw new AnalysisRunnerException("InvalidServerResponse", ErrorKind.InvalidData, Connection.Server.ToString(),
                $"{Connection.Server} answered {method} {path} with something that is not the expected JSON: {error.Message}");
        }
    }

    /// <summary>Sends one request whose success answer has no body worth reading (204).</summary>
    protected async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendAnsweredAsync(method, path, body, [], cancellationToken);
    }

    /// <summary>
    /// The request's success answer, or its error as an exception; a 503 to a repeatable request is
    /// sent again, the same request with the same headers (a submission's idempotency key), as
    /// <see cref="Retry"/> says, and after its budget the last 503's error stands.
    /// </summary>
    private async Task<HttpResponseMessage> SendAnsweredAsync(HttpMethod method, string path, object? body,
        IReadOnlyList<(string Name, string Value)> headers, CancellationToken cancellationToken)
    {
        var repeatable = Repeatable(method, path, headers);
        var waited = TimeSpan.Zero;
        for (var retry = 1; ; retry++)
        {
            using var request = new HttpRequestMessage(method, path.TrimStart('/'));
            if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ApiJson.Options);
            foreach (var (name, value) in headers) request.Headers.Add(name, value);
            var response = await SendRawAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode) return response;
            AnalysisRunnerException error;
            TimeSpan? retryAfter;
            using (response)
            {
                error = await ToExceptionAsync(response, cancellationToken);
                retryAfter = RetryAfter(response);
                if (!repeatable || response.StatusCode != HttpStatusCode.ServiceUnavailable) throw error;
            }
            if (Retry.NextDelay(retry, waited, retryAfter) is not { } delay) throw error;
            Retry.Notify?.Invoke(new ServerRetryNotice($"{method} {path}", error, retry, delay, waited, Retry.Budget));
            await Retry.Wait(delay, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            waited += delay;
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };

    /// <summary>
    /// A GET whose success answer is a body of bytes, streamed as it arrives (the request's timeout
    /// covers only the answer's start); disposing the stream ends the answer.
    /// </summary>
    protected async Task<Stream> OpenStreamAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/octet-stream"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ProblemDocument.MediaType));
        var response = await SendRawAsync(request, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            if (!response.IsSuccessStatusCode) throw await ToExceptionAsync(response, cancellationToken);
            return new HttpResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A server-sent-events answer, event by event (name, data), until the server's "end" event. The
    /// request's timeout covers only the answer's start: a wait or a followed log may last for hours.
    /// A stream cut before "end" is ServerStreamEnded, never a silent end of a log or a wait.
    /// </summary>
    protected async IAsyncEnumerable<ServerEvent> StreamEventsAsync(HttpMethod method, string path, object? body,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ProblemDocument.MediaType));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ApiJson.Options);
        using var response = await SendRawAsync(request, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) throw await ToExceptionAsync(response, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        string name = "message";
        var data = new System.Text.StringBuilder();
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(cancellationToken);
            }
            catch (Exception error) when (error is IOException or HttpRequestException)
            {
                throw StreamEnded(method, path, error);
            }
            if (line is null) throw StreamEnded(method, path, null);
            if (line.Length == 0)
            {
                if (data.Length == 0 && name == "message") continue;
                var item = new ServerEvent(name, data.ToString());
                if (item.Name == "end") yield break;
                if (item.Name == "error")
                {
                    var problem = ReadEvent<ProblemDocument>(item, path);
                    throw problem.ToException(problem.Status);
                }
                yield return item;
                name = "message";
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                if (data.Length > 0) data.Append('\n');
                data.Append(line.AsSpan(line.StartsWith("data: ", StringComparison.Ordinal) ? 6 : 5));
            }
        }
    }

    /// <summary>One event's data read as JSON.</summary>
    protected T ReadEvent<T>(ServerEvent item, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(item.Data, ApiJson.Options) ?? throw new JsonException("The event was JSON null.");
        }
        catch (JsonException error)
        {
            throw new AnalysisRunnerException("InvalidServerResponse", ErrorKind.InvalidData, Connection.Server.ToString(),
                $"{Connection.Server} sent a '{item.Name}' event on {path} that is not the expected JSON: {error.Message}");
        }
    }

    private AnalysisRunnerException StreamEnded(HttpMethod method, string path, Exception? cause) =>
        new("ServerStreamEnded", ErrorKind.ResourceUnavailable, Connection.Server.ToString(),
            $"{Connection.Server} stopped answering {method} {path} before it was done{(cause is null ? "" : ": " + cause.Message)}; run the command again to pick it up.",
            cause);

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException error) when (error.InnerException is SocketException or IOException || error.HttpRequestError is
                                                     HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError)
        {
            throw new AnalysisRunnerException("ServerUnreachable", ErrorKind.ResourceUnavailable, Connection.Server.ToString(),
                $"The AnalysisRunner server {Connection.Server} cannot be reached: {error.Message}", error);
        }
        catch (TaskCanceledException error) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AnalysisRunnerException("ServerTimedOut", ErrorKind.OperationTimeout, Connection.Server.ToString(),
                $"The AnalysisRunner server {Connection.Server} did not answer within {_http.Timeout.TotalSeconds:0} s.", error);
        }
    }

    /// <summary>The server's problem detail as an exception; an answer that is not one (a proxy's page) still gets a kind from its status.</summary>
    internal static async Task<AnalysisRunnerException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        ProblemDocument? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is ProblemDocument.MediaType or "application/json")
        {
            try
            {
                problem = JsonSerializer.Deserialize<ProblemDocument>(text, ApiJson.Options);
            }
            catch (JsonException)
            {
                problem = null;
            }
        }
        problem ??= new ProblemDocument
        {
            Status = status,
            Title = response.ReasonPhrase,
            Detail = $"The server answered {status} {response.ReasonPhrase ?? ((HttpStatusCode)status).ToString()}" +
                     (string.IsNullOrWhiteSpace(text) ? "." : $": {Truncate(text, 300)}"),
        };
        return problem.ToException(status);
    }

    /// <summary>"?a=1&amp;b=2" from the parameters that have a value, each escaped ("" when none has).</summary>
    protected static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    public void Dispose()
    {
        _http.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>One server-sent event: its name ("message" when unnamed) and its data lines joined by newlines.</summary>
public sealed record ServerEvent(string Name, string Data);

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

    public RunnerHttpClient(ServerConnection connection, HttpMessageHandler? handler = null)
    {
        Connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = connection.Server;
        _http.Timeout = TimeSpan.FromSeconds(100);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(ProblemDocument.MediaType));
        if (connection.Token is not null)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", connection.Token);
    }

    public ServerConnection Connection { get; }

    public Task<HealthReport> GetHealthAsync(CancellationToken cancellationToken = default) =>
        SendAsync<HealthReport>(HttpMethod.Get, ApiRoutes.Health, null, cancellationToken);

    public Task<CallerInfo> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        SendAsync<CallerInfo>(HttpMethod.Get, ApiRoutes.WhoAmI, null, cancellationToken);

    /// <summary>Sends one request; a success answer is read as <typeparamref name="T"/>, anything else becomes an exception.</summary>
    protected async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ApiJson.Options);
        using var response = await SendRawAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode) throw await ToExceptionAsync(response, cancellationToken);
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

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, cancellationToken);
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

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    public void Dispose()
    {
        _http.Dispose();
        GC.SuppressFinalize(this);
    }
}

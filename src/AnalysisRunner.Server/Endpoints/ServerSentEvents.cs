using System.Text.Json;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>
/// Streams an IAsyncEnumerable as server-sent events, one named event per item, then "end". An error
/// once the stream has started can no longer be a status, so it is an "error" event carrying the
/// problem detail (the client throws it as the same exception), and no "end": a stream without "end"
/// is never mistaken for a complete one.
/// </summary>
internal static class ServerSentEvents
{
    public static async Task WriteAsync<T>(HttpContext context, string eventName, IAsyncEnumerable<T> items)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        // Callers check the caller's rights before they hand the items over, so a refusal is still a
        // status; the answer starts at once, since a wait's first item may be hours away.
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        await response.StartAsync(aborted);
        try
        {
            await response.Body.FlushAsync(aborted);
            await foreach (var item in items.WithCancellation(aborted))
            {
                await response.WriteAsync($"event: {eventName}\ndata: {JsonSerializer.Serialize(item, ApiJson.Options)}\n\n", aborted);
                await response.Body.FlushAsync(aborted);
            }
            await response.WriteAsync("event: end\ndata: \"\"\n\n", aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (AnalysisRunnerException error)
        {
            await response.WriteAsync($"event: error\ndata: {JsonSerializer.Serialize(ProblemDocument.From(error, context.Request.Path), ApiJson.Options)}\n\n", aborted);
        }
    }
}

using System.Globalization;
using System.Text.Json;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// …/attempts/&lt;n&gt;/stdout|stderr/events: server-sent events with the lines a job's log gains after
/// line ?from= (or the Last-Event-ID a reconnecting browser sends), one JSON string per line, and
/// "end" once the attempt is over and every line has been sent. Follows through the runner's log
/// reader, which waits on the log folder and the executor's signal, not on a timer. The caller's right
/// to the job is checked once, before the stream starts.
/// </summary>
internal static class LogEvents
{
    public static async Task StreamAsync(HttpContext context, RunnerReader reader, long batchId, int jobId, int attempt, string stream, int? from)
    {
        var logStream = stream switch
        {
            "stdout" => LogStream.Stdout,
            "stderr" => LogStream.Stderr,
            _ => throw new AnalysisRunnerException("InvalidLogStream", ErrorKind.InvalidArgument, stream, $"'{stream}' is not a log; use stdout or stderr."),
        };
        var view = await reader.GetJobAsync(context.User.Identity!.Name!, batchId, jobId, context.RequestAborted);
        if (view.Attempts.All(a => a.Attempt != attempt))
            throw new AnalysisRunnerException("AttemptNotFound", ErrorKind.ObjectNotFound, attempt,
                $"Job {jobId} of batch {batchId} has had no attempt {attempt} (it has had {view.Attempts.Count}).");
        var skip = Math.Max(0, int.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var resumed)
            ? resumed
            : from ?? 0);

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        var aborted = context.RequestAborted;
        await response.StartAsync(aborted);
        try
        {
            var line = 0;
            await foreach (var text in reader.Logs.FollowAsync(batchId, jobId, attempt, logStream, aborted))
            {
                if (++line <= skip) continue;
                await response.WriteAsync(
                    $"id: {line.ToString(CultureInfo.InvariantCulture)}\ndata: {JsonSerializer.Serialize(text + "\n")}\n\n", aborted);
                await response.Body.FlushAsync(aborted);
            }
            await response.WriteAsync("event: end\ndata: \"\"\n\n", aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The browser went away.
        }
    }
}

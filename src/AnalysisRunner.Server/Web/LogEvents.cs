using System.Globalization;
using System.Text.Json;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// …/attempts/&lt;n&gt;/stdout|stderr/events: server-sent events with what a job's log gains after a byte
/// offset (?from=, or the Last-Event-ID a reconnecting browser sends), one JSON string per message, and
/// "end" once the attempt is over and everything it wrote has been sent. The caller's right to the job
/// is checked once, before the stream starts.
/// </summary>
internal static class LogEvents
{
    /// <summary>How often an open stream looks for more; the server's own wait, never a test's.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static async Task StreamAsync(HttpContext context, RunnerReader reader, long batchId, int jobId, int attempt, string stream, long? from)
    {
        if (stream is not ("stdout" or "stderr"))
            throw new AnalysisRunnerException("InvalidLogStream", ErrorKind.InvalidArgument, stream, $"'{stream}' is not a log; use stdout or stderr.");
        var view = reader.GetJob(context.User.Identity!.Name!, batchId, jobId);
        var found = view.Attempts.FirstOrDefault(a => a.Attempt == attempt)
            ?? throw new AnalysisRunnerException("AttemptNotFound", ErrorKind.ObjectNotFound, attempt,
                $"Job {jobId} of batch {batchId} has had no attempt {attempt} (it has had {view.Attempts.Count}).");
        var path = stream == "stdout" ? found.Stdout : found.Stderr;
        var offset = Math.Max(0, long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var resumed)
            ? resumed
            : from ?? 0);

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        var aborted = context.RequestAborted;
        await response.StartAsync(aborted);
        var buffer = new byte[1 << 16];
        var over = false;
        try
        {
            while (true)
            {
                var (text, bytes) = await LogFiles.ReadFromAsync(path, offset, buffer, aborted);
                if (bytes > 0)
                {
                    offset += bytes;
                    await response.WriteAsync($"id: {offset.ToString(CultureInfo.InvariantCulture)}\ndata: {JsonSerializer.Serialize(text)}\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                    continue;
                }
                // Looked at after a read that found nothing, then read once more: what an attempt writes before it ends is never lost.
                if (over)
                {
                    await response.WriteAsync("event: end\ndata: \"\"\n\n", aborted);
                    return;
                }
                var job = reader.RefreshJob(batchId, jobId);
                over = job is null || job.State.IsFinished() || job.Attempt > attempt;
                if (!over) await Task.Delay(PollInterval, aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The browser went away.
        }
    }
}

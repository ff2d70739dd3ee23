using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Runs;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>
/// Batches, jobs, logs and waits for scripts and the cmdlets. Waits and logs are server-sent events
/// (Core's watcher and log reader, which wait on the executor's signals, not on a timer). Every route
/// checks the caller may read the batch before it acts.
/// </summary>
internal static class BatchEndpoints
{
    public static void MapBatches(this IEndpointRouteBuilder app)
    {
        var batches = app.MapGroup("").WithTags("Runs and batches")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        batches.MapGet(RunRoutes.Batches, (HttpContext context, RunnerActions actions, string? arGuid, BatchState? state, int? first, long? beforeId) =>
                actions.FindBatchesAsync(context.Caller().User,
                    new BatchQuery { ArGuid = arGuid, State = state, First = arGuid is null ? first ?? 50 : first, BeforeId = beforeId },
                    context.RequestAborted))
            .WithName("FindBatches")
            .WithSummary("Batches the caller may read, newest first: of one run (?arGuid=), or the newest `first` (default 50); " +
                         "?beforeId= (the last id of the page before) lists older ones.");
        batches.MapPost(RunRoutes.Watch, async (HttpContext context, RunnerActions actions, WatchRequest request) =>
                await ServerSentEvents.WriteAsync(context, "progress",
                    Progress(await actions.WatchAsync(context.Caller().User, request, context.RequestAborted))))
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .WithName("WatchBatches").WithSummary("Waits for batches or a run to end: 'progress' events ({batches, elapsedSeconds}), the last one as they ended, then 'end'.");
        batches.MapPost("/api/v1/batches/{batchId:long}/cancel", (HttpContext context, RunnerActions actions, long batchId) =>
                actions.CancelAsync(context.Caller().User, batchId, context.RequestAborted))
            .WithName("CancelBatch").WithSummary("Asks the executor to cancel the batch's unfinished jobs.");
        batches.MapPost("/api/v1/batches/{batchId:long}/resume", (HttpContext context, RunnerActions actions, long batchId) =>
                actions.ResumeAsync(context.Caller().User, batchId, context.RequestAborted))
            .WithName("ResumeBatch").WithSummary("Makes sure an executor works on the batch.");
        batches.MapDelete("/api/v1/batches/{batchId:long}", async (HttpContext context, RunnerActions actions, long batchId) =>
            {
                await actions.RemoveAsync(context.Caller().User, batchId, context.RequestAborted);
                return Results.NoContent();
            })
            .WithName("RemoveBatch").WithSummary("Deletes a finished batch: its records, logs and work folders (409 BatchNotFinished while it runs).");
        batches.MapGet("/api/v1/batches/{batchId:long}/jobs/{jobId:int}/attempts", (HttpContext context, RunnerActions actions, long batchId, int jobId) =>
                actions.GetAttemptsAsync(context.Caller().User, batchId, jobId, context.RequestAborted))
            .WithName("GetJobAttempts").WithSummary("Every attempt of a job, first to latest.");
        batches.MapGet("/api/v1/batches/{batchId:long}/jobs/{jobId:int}/attempts/{attempt:int}/{stream}",
                async (HttpContext context, RunnerActions actions, long batchId, int jobId, int attempt, string stream, bool? follow) =>
                {
                    var logStream = stream switch
                    {
                        "stdout" => LogStream.Stdout,
                        "stderr" => LogStream.Stderr,
                        _ => throw new AnalysisRunnerException("InvalidLogStream", ErrorKind.InvalidArgument, stream, $"'{stream}' is not a log; use stdout or stderr."),
                    };
                    await actions.CheckLogAsync(context.Caller().User, batchId, jobId, attempt, context.RequestAborted);
                    await ServerSentEvents.WriteAsync(context, "line",
                        actions.ReadLog(batchId, jobId, attempt, logStream, follow == true, context.RequestAborted));
                })
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .WithName("ReadJobLog").WithSummary("An attempt's log as 'line' events (JSON strings), then 'end'; ?follow=true streams it until the attempt ends.");
    }

    private static async IAsyncEnumerable<WatchEvent> Progress(IAsyncEnumerable<Core.Batch.Watching.BatchProgress> watch)
    {
        await foreach (var progress in watch)
            yield return new WatchEvent(progress.Batches, progress.Elapsed.TotalSeconds);
    }
}

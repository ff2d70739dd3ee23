using System.Text.Json;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>
/// What the executor answers on one batch's run channel. The caller is that batch's run, fixed when
/// the channel was made from the stored batch and its verified audit-log entry; nothing a request
/// says (attributes, a token, another batch's id) changes it. Every batch it reads, waits on or
/// cancels must belong to that run; a submitted batch is checked exactly as in-process submission
/// checks it (<see cref="BatchSubmitter.Check"/>) and gets the run's scope.
/// </summary>
internal sealed class RunChannelService(Deployment deployment, long batchId, RunRecord run)
{
    public const string OutsideRunErrorId = "BatchOutsideRun";
    public const string UnknownRequestErrorId = "RunChannelRequestUnknown";
    public const string FailedErrorId = "RunChannelRequestFailed";

    /// <summary>The longest a wait may ask for; a wait without -Timeout waits this long, then asks again.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(7);

    private const int LogLinesPerAnswer = 1000;

    public long BatchId => batchId;
    public RunRecord Run => run;

    /// <summary>Answers one request through <paramref name="answer"/> (more than once for a log); errors become problems.</summary>
    public async Task HandleAsync(RunChannelRequest request, Func<RunChannelAnswer, Task> answer, CancellationToken cancellationToken)
    {
        try
        {
            if (request.Op == RunChannelOps.Log)
            {
                await SendLogAsync(request, answer, cancellationToken).ConfigureAwait(false);
                return;
            }
            var result = await AnswerAsync(request, cancellationToken).ConfigureAwait(false);
            await answer(new RunChannelAnswer { Result = JsonSerializer.SerializeToElement(result, ApiJson.Options) }).ConfigureAwait(false);
        }
        catch (AnalysisRunnerException error)
        {
            await answer(new RunChannelAnswer { Problem = ProblemDocument.From(error) }).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException and not IOException)
        {
            // A request the checks above did not foresee (a spec with nulls where JSON allowed them) fails that
            // request, typed, and never the executor.
            var failed = new AnalysisRunnerException(FailedErrorId, ErrorKind.InvalidOperation, request.Op,
                $"The run channel could not answer '{request.Op}': {error.GetType().Name}: {error.Message}", error);
            await answer(new RunChannelAnswer { Problem = ProblemDocument.From(failed) }).ConfigureAwait(false);
        }
    }

    private async Task<object?> AnswerAsync(RunChannelRequest request, CancellationToken cancellationToken)
    {
        var store = deployment.Batches;
        switch (request.Op)
        {
            case RunChannelOps.WhoAmI:
                return Identity();
            case RunChannelOps.Submit:
                return await SubmitAsync(request.Spec ?? throw RunChannelFrames.Invalid("a submit names no batch (spec)"), request.DryRun,
                    cancellationToken).ConfigureAwait(false);
            case RunChannelOps.Batch:
                return await OwnedAsync(Required(request.BatchId, "batchId"), cancellationToken, allowMissing: true).ConfigureAwait(false);
            case RunChannelOps.Batches:
                if (request.ArGuid is { } arGuid && arGuid != run.ArGuid)
                    throw new AnalysisRunnerException(OutsideRunErrorId, ErrorKind.PermissionDenied, arGuid,
                        $"Run {arGuid} is not this job's run ({run.ArGuid}); a job reaches only its own run's batches.");
                return await store.FindBatchesAsync(new BatchQuery { ArGuid = run.ArGuid, Ids = request.BatchIds, State = request.State, First = request.First, BeforeId = request.BeforeId },
                    cancellationToken).ConfigureAwait(false);
            case RunChannelOps.Jobs:
                await OwnedAsync(Required(request.BatchId, "batchId"), cancellationToken).ConfigureAwait(false);
                return await store.GetJobsAsync(request.BatchId!.Value, cancellationToken).ConfigureAwait(false);
            case RunChannelOps.Job:
                await OwnedAsync(Required(request.BatchId, "batchId"), cancellationToken).ConfigureAwait(false);
                return await store.GetJobAsync(request.BatchId!.Value, Required(request.JobId, "jobId"), cancellationToken).ConfigureAwait(false);
            case RunChannelOps.Attempts:
                await OwnedAsync(Required(request.BatchId, "batchId"), cancellationToken).ConfigureAwait(false);
                return await deployment.Runner.Logs.GetAttemptsAsync(request.BatchId!.Value, Required(request.JobId, "jobId"), cancellationToken)
                    .ConfigureAwait(false);
            case RunChannelOps.Cancel:
                await OwnedAsync(Required(request.BatchId, "batchId"), cancellationToken).ConfigureAwait(false);
                await store.RequestCancelAsync(request.BatchId!.Value, cancellationToken).ConfigureAwait(false);
                deployment.Executor.Wake();
                return null;
            case RunChannelOps.Config:
                // The run's own config only (on gcs it is in the config store, which only the runner's key reads).
                return Config.TomlFiles.Serialize(await deployment.ReadConfigAsync(run.ConfigPath).ConfigureAwait(false));
            case RunChannelOps.Wait:
                return await WaitAsync(request, cancellationToken).ConfigureAwait(false);
            default:
                throw new AnalysisRunnerException(UnknownRequestErrorId, ErrorKind.InvalidArgument, request.Op,
                    $"The run channel has no operation '{request.Op}'.");
        }
    }

    public RunChannelIdentity Identity()
    {
        var context = RunContext.Of(run, deployment);
        var largest = deployment.Runner.Capacity.LargestJob;
        var storage = deployment.Settings.Storage;
        return new RunChannelIdentity
        {
            StorageBackend = deployment.Settings.StorageBackend,
            StorageEndpoint = storage.Endpoint,
            StorageUnauthenticated = storage.Unauthenticated,
            StorageProject = storage.Project,
            WebUrl = deployment.Settings.Web?.ToString(),
            BatchId = batchId,
            Run = run,
            TmpBucket = context.TmpBucket,
            Attributes = context.Attributes,
            LargestJobCpu = largest.Cpu,
            LargestJobMemoryBytes = largest.MemoryBytes,
        };
    }

    private async Task<object> SubmitAsync(BatchSpec spec, bool dryRun, CancellationToken cancellationToken)
    {
        RunChannelSpecShape.Check(spec);
        var submitter = new BatchSubmitter(deployment);
        var checkedSpec = submitter.Check(spec, BatchScope.ForRun(run));
        if (dryRun) return checkedSpec;
        var id = await submitter.StoreAsync(checkedSpec, cancellationToken).ConfigureAwait(false);
        return await deployment.Batches.RequireBatchAsync(id, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<BatchInfo>> WaitAsync(RunChannelRequest request, CancellationToken cancellationToken)
    {
        var ids = request.BatchIds is { Count: > 0 } given ? given : throw RunChannelFrames.Invalid("a wait names no batches (batchIds)");
        if (ids.Count > 10_000) throw RunChannelFrames.Invalid("a wait names more than 10000 batches");
        foreach (var id in ids) await OwnedAsync(id, cancellationToken).ConfigureAwait(false);
        var timeout = request.TimeoutSeconds is { } seconds && seconds >= 0 && seconds < LongestWait.TotalSeconds ? TimeSpan.FromSeconds(seconds) : LongestWait;
        BatchProgress? last = null;
        await foreach (var progress in deployment.Watcher.WatchAsync(ids, new WatchOptions { Timeout = timeout }, cancellationToken).ConfigureAwait(false))
            last = progress;
        return last?.Batches ?? [];
    }

    private async Task SendLogAsync(RunChannelRequest request, Func<RunChannelAnswer, Task> answer, CancellationToken cancellationToken)
    {
        var id = Required(request.BatchId, "batchId");
        await OwnedAsync(id, cancellationToken).ConfigureAwait(false);
        var jobId = Required(request.JobId, "jobId");
        var attempt = Required(request.Attempt, "attempt");
        var stream = request.Stream ?? LogStream.Stdout;
        var logs = deployment.Runner.Logs;
        var lines = request.Follow
            ? logs.FollowAsync(id, jobId, attempt, stream, cancellationToken)
            : logs.ReadAsync(id, jobId, attempt, stream, cancellationToken);
        var part = new List<string>();
        long bytes = 0;
        await foreach (var line in lines.ConfigureAwait(false))
        {
            part.Add(line);
            bytes += line.Length;
            // A follower sees each line as it comes; a reader gets them in parts well inside the answer limit.
            if (request.Follow || part.Count >= LogLinesPerAnswer || bytes > RunChannelFrames.MaxAnswerBytes / 8)
            {
                await answer(new RunChannelAnswer { Result = JsonSerializer.SerializeToElement(part, ApiJson.Options), More = true }).ConfigureAwait(false);
                part.Clear();
                bytes = 0;
            }
        }
        await answer(new RunChannelAnswer { Result = JsonSerializer.SerializeToElement(part, ApiJson.Options) }).ConfigureAwait(false);
    }

    /// <summary>The batch when it is this run's; BatchOutsideRun for any other run's (or, where the caller needs it to exist, a missing one).</summary>
    private async Task<BatchInfo?> OwnedAsync(long id, CancellationToken cancellationToken, bool allowMissing = false)
    {
        var batch = await deployment.Batches.GetBatchAsync(id, cancellationToken).ConfigureAwait(false);
        if (batch is not null && batch.ArGuid == run.ArGuid) return batch;
        if (batch is null && allowMissing) return null;
        throw new AnalysisRunnerException(OutsideRunErrorId, ErrorKind.PermissionDenied, id,
            $"Batch {id} is not a batch of run {run.ArGuid}; a job reaches only its own run's batches.");
    }

    private static T Required<T>(T? value, string name) where T : struct =>
        value ?? throw RunChannelFrames.Invalid($"the request has no {name}");
}

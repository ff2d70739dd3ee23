using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Server.Runs;

/// <summary>
/// What the API does on behalf of a token's user, each checked first: a submission goes through the
/// authority with that user as the caller (which checks membership, the allowlisted remote, main for
/// standard/full, the script in the server's own clone); every read, wait, cancel, resume and removal
/// of a batch first passes <see cref="RunnerReader"/>'s read rule for the batch (its run's dataset
/// namespace, or its author outside any run); a cancel, resume or removal then also passes
/// <see cref="RunWriteAccess"/> (the run's submitter, or a full member). The in-process client does
/// the same steps unchecked, since there the OS account is the only user.
/// </summary>
public sealed class RunnerActions(RunnerHomeAccess home, RunnerReader reader)
{
    private InProcessRunnerClient Engine => new(home.Deployment);

    public Task<RunPlan> PlanAsync(SubmissionFacts facts, Caller caller)
    {
        FullCommitRule.Check(facts);
        return Task.FromResult(new RunAuthority(home.Deployment).Plan(facts, caller));
    }

    /// <summary>
    /// Submits, once per <paramref name="idempotencyKey"/> of the caller (RunAuthority.SubmitOnceAsync).
    /// A replayed run is still read through the read rule, so a key never answers more than the caller may read now.
    /// </summary>
    public async Task<RunRecord> SubmitAsync(SubmissionFacts facts, string? idempotencyKey, Caller caller, CancellationToken cancellationToken)
    {
        FullCommitRule.Check(facts);
        var key = idempotencyKey is null ? null : SubmissionKey.ForFacts(idempotencyKey, facts);
        var authority = new RunAuthority(home.Deployment);
        var run = await authority.SubmitOnceAsync(key, caller, () => Task.FromResult(authority.Plan(facts, caller)), cancellationToken);
        return key is null ? run : Readable(caller, run);
    }

    /// <summary>A re-run is of a run the caller may read; the authority then checks the caller may submit it now.</summary>
    public async Task<RunPlan> PlanRerunAsync(string arGuid, Caller caller, CancellationToken cancellationToken)
    {
        await reader.GetRunAsync(caller.User, arGuid, cancellationToken);
        return await new RunAuthority(home.Deployment).PlanRerunAsync(arGuid, caller, cancellationToken);
    }

    public async Task<RunRecord> RerunAsync(string arGuid, string? idempotencyKey, Caller caller, CancellationToken cancellationToken)
    {
        var key = idempotencyKey is null ? null : SubmissionKey.ForRerun(idempotencyKey, arGuid);
        var run = await new RunAuthority(home.Deployment).SubmitOnceAsync(key, caller,
            () => PlanRerunAsync(arGuid, caller, cancellationToken), cancellationToken);
        return key is null ? run : Readable(caller, run);
    }

    private RunRecord Readable(Caller caller, RunRecord run)
    {
        DatasetReadAccess.Check(home.Deployment.LoadRegistry(), caller.User, run.Dataset, run.AccessLevel.Namespace());
        return run;
    }

    /// <summary>
    /// Audit-log pages of what the caller may read: a named dataset the caller is in no list of is
    /// 403 (as the pages answer), otherwise rows of namespaces the caller may not read are left out.
    /// </summary>
    public Task<LogPage> QueryLogAsync(string caller, LogQuery query, string? cursor, CancellationToken cancellationToken)
    {
        var registry = home.Deployment.LoadRegistry();
        if (query.Dataset is { } dataset)
            DatasetReadAccess.Check(registry, caller, dataset, query.AccessLevel?.Namespace() ?? "test");
        return AuditLogPaging.PageAsync(home.Deployment.RunLog, query, cursor,
            run => DatasetReadAccess.MayRead(registry, caller, run.Dataset, run.AccessLevel.Namespace()), cancellationToken);
    }

    /// <summary>Batches read from the store per step of a listing: bounded work for each, whatever `first` asks for.</summary>
    internal const int ListingChunk = 200;

    /// <summary>
    /// A run's batches (the caller may read the run, so all of them), or the newest `First` batches the
    /// caller may read. The read rule is applied after the store's query, so `First` cannot go to the
    /// store: the store is read by keyset (BeforeId) in chunks until enough readable batches are found
    /// or it has no more, never the whole table at once.
    /// </summary>
    public async Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(string caller, BatchQuery query, CancellationToken cancellationToken)
    {
        var store = home.Deployment.Batches;
        if (query.ArGuid is { } arGuid)
        {
            await reader.GetRunAsync(caller, arGuid, cancellationToken);
            return await store.FindBatchesAsync(query with { Ids = null }, cancellationToken);
        }
        var wanted = query.First is { } first ? Math.Max(0, first) : int.MaxValue;
        var found = new List<BatchInfo>();
        var chunk = query with { Ids = null, First = ListingChunk };
        while (found.Count < wanted)
        {
            var batches = await store.FindBatchesAsync(chunk, cancellationToken);
            await foreach (var readable in reader.ReadableAsync(caller, batches, cancellationToken))
            {
                if (found.Count == wanted) break;
                found.Add(readable);
            }
            if (batches.Count < ListingChunk) break;
            chunk = chunk with { BeforeId = batches[^1].Id };
        }
        return found;
    }

    public async Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(string caller, long batchId, int jobId, CancellationToken cancellationToken) =>
        (await reader.GetJobAsync(caller, batchId, jobId, cancellationToken)).Attempts;

    /// <summary>Checks the caller may read the attempt's job (and that the attempt exists) before a log is streamed.</summary>
    public async Task CheckLogAsync(string caller, long batchId, int jobId, int attempt, CancellationToken cancellationToken)
    {
        var view = await reader.GetJobAsync(caller, batchId, jobId, cancellationToken);
        if (attempt < 1 || attempt > Math.Max(view.Job.Attempt, 1))
            throw new AnalysisRunnerException("AttemptNotFound", ErrorKind.ObjectNotFound, attempt,
                $"Job {batchId}/{jobId} has had {view.Job.Attempt} attempt(s); ask for 1 to {Math.Max(view.Job.Attempt, 1)}.");
    }

    public IAsyncEnumerable<string> ReadLog(long batchId, int jobId, int attempt, Core.Batch.Runners.LogStream stream, bool follow,
        CancellationToken cancellationToken) =>
        Engine.ReadLogAsync(batchId, jobId, attempt, stream, follow, cancellationToken);

    /// <summary>Every batch of a wait is checked before the wait starts; a run's driver batch must be that run's.</summary>
    public async Task<IAsyncEnumerable<Core.Batch.Watching.BatchProgress>> WatchAsync(string caller, Core.Http.WatchRequest request,
        CancellationToken cancellationToken)
    {
        var options = new Core.Batch.Watching.WatchOptions
        {
            Progress = request.Progress,
            Timeout = request.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(Math.Max(0, seconds)) : null,
        };
        if (request.ArGuid is { } arGuid)
        {
            var run = await reader.GetRunAsync(caller, arGuid, cancellationToken);
            // A run answered before its driver batch existed (batch 0: RunDispatchRetry creates it) is waited on by the batch it has now.
            var driverId = request.DriverBatchId is > 0 ? request.DriverBatchId : run.DriverBatchId;
            if (driverId is 0 && await home.Deployment.RunLog.IsDriverBatchWithheldAsync(arGuid, cancellationToken))
                throw new AnalysisRunnerException("DriverBatchWithheld", ErrorKind.OperationStopped, arGuid,
                    $"Run {arGuid} was stopped before its driver batch was created, so it has none and never will; there is nothing to wait for.");
            if (driverId is 0)
                throw new AnalysisRunnerException("DriverBatchPending", ErrorKind.ResourceUnavailable, arGuid,
                    $"Run {arGuid} is logged, but its driver batch is still to be created (the server retries by itself); wait again shortly: Get-AnalysisLog -ArGuid {arGuid} | Wait-Batch.");
            var driver = driverId is { } id ? await home.Deployment.Batches.RequireBatchAsync(id, cancellationToken) : null;
            if (driver is null || driver.ArGuid != arGuid)
                throw new AnalysisRunnerException("NotTheRunsBatch", ErrorKind.InvalidArgument, request.DriverBatchId,
                    $"Batch {request.DriverBatchId} is not the driver batch of run {arGuid}; Get-AnalysisLog shows a run's DriverBatchId.");
            return Engine.WatchRunAsync(arGuid, driver.Id, options, cancellationToken);
        }
        if (request.BatchIds.Count == 0)
            throw new AnalysisRunnerException("NothingToWaitFor", ErrorKind.InvalidArgument, null, "Name batchIds, or an arGuid with its driverBatchId.");
        foreach (var id in request.BatchIds) await reader.GetBatchAsync(caller, id, cancellationToken);
        return Engine.WatchAsync(request.BatchIds, options, cancellationToken);
    }

    public async Task<BatchInfo> CancelAsync(string caller, long batchId, CancellationToken cancellationToken)
    {
        await CheckMayChangeAsync(caller, batchId, cancellationToken);
        return await Engine.CancelBatchAsync(batchId, cancellationToken);
    }

    public async Task<CancelledBatches> CancelRunAsync(string caller, string arGuid, CancellationToken cancellationToken)
    {
        RunWriteAccess.Check(home.Deployment.LoadRegistry(), caller, await reader.GetRunAsync(caller, arGuid, cancellationToken));
        return await Engine.CancelRunAsync(arGuid, cancellationToken);
    }

    public async Task<BatchInfo> ResumeAsync(string caller, long batchId, CancellationToken cancellationToken)
    {
        await CheckMayChangeAsync(caller, batchId, cancellationToken);
        return await Engine.ResumeBatchAsync(batchId, cancellationToken);
    }

    public async Task RemoveAsync(string caller, long batchId, CancellationToken cancellationToken)
    {
        await CheckMayChangeAsync(caller, batchId, cancellationToken);
        await Engine.RemoveBatchAsync(batchId, cancellationToken);
    }

    /// <summary>Read first (403 NotADatasetMember / NotTheBatchAuthor), then write: a batch of a run by its submitter or a full member.</summary>
    private async Task CheckMayChangeAsync(string caller, long batchId, CancellationToken cancellationToken)
    {
        if ((await reader.GetBatchAsync(caller, batchId, cancellationToken)).Run is { } run)
            RunWriteAccess.Check(home.Deployment.LoadRegistry(), caller, run);
    }
}

using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// The one interface the cmdlets talk to, with two transports picked once by
/// <see cref="RunnerTarget.Choose"/> (<see cref="RunnerClients.Open"/>): in-process over the runner home
/// (<see cref="InProcessRunnerClient"/>, the embedded default) and HTTP to AnalysisRunner.Server
/// (<see cref="HttpRunnerClient"/>). Cmdlets never branch on which one they have.
///
/// The rules it follows:
/// - Requests carry facts, never identity: the in-process transport derives the caller from the OS
///   account, the HTTP one from the bearer token on the server. No method takes a user.
/// - Errors are <see cref="AnalysisRunnerException"/>s with the same ErrorIds on both transports
///   (the HTTP one rebuilds them from problem details, <see cref="ProblemDocument.ToException"/>).
/// - Anything that waits or follows is an IAsyncEnumerable (Core's <see cref="IBatchWatcher"/> and
///   <see cref="IJobLogReader"/>), which the server streams as server-sent events, so cmdlets, the API
///   and the pages share one implementation of waiting.
/// </summary>
public interface IRunnerClient : IDisposable
{
    /// <summary>For messages: "runner home /x" or "server https://…".</summary>
    string Description { get; }

    /// <summary>Who this transport takes the caller to be (the OS account's email, or the token's user).</summary>
    Task<CallerInfo> WhoAmIAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether the backend works: its database reachable.</summary>
    Task<HealthReport> GetHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>What submitting these facts would do, nothing written (Submit-Analysis -WhatIf, and the question before a submit).</summary>
    Task<RunPlan> PlanRunAsync(SubmissionFacts facts, CancellationToken cancellationToken = default);

    /// <summary>What running a logged run again would do, nothing written.</summary>
    Task<RunPlan> PlanRerunAsync(string arGuid, CancellationToken cancellationToken = default);

    /// <summary>
    /// Submits what <paramref name="plan"/> describes. In-process the plan itself is written; over
    /// HTTP only its facts (or the ar_guid it re-runs) travel, and the server plans and checks again.
    /// </summary>
    Task<RunRecord> SubmitRunAsync(RunPlan plan, CancellationToken cancellationToken = default);

    /// <summary>Runs in the audit log, newest first; one page, with the cursor of the next (keyset paging).</summary>
    Task<LogPage> QueryAuditLogAsync(LogQuery query, string? cursor, CancellationToken cancellationToken = default);

    Task<BatchInfo> GetBatchAsync(long batchId, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default);

    /// <summary>An attempt's log lines; with <paramref name="follow"/> as they are written, until the attempt ends.</summary>
    IAsyncEnumerable<string> ReadLogAsync(long batchId, int jobId, int attempt, LogStream stream, bool follow,
        CancellationToken cancellationToken = default);

    /// <summary>Progress of batches until all have ended; the last item holds every batch as it ended.</summary>
    IAsyncEnumerable<BatchProgress> WatchAsync(IReadOnlyList<long> batchIds, WatchOptions options, CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="WatchAsync"/> for a run: its driver batch and every batch it submits.</summary>
    IAsyncEnumerable<BatchProgress> WatchRunAsync(string arGuid, long driverBatchId, WatchOptions options,
        CancellationToken cancellationToken = default);

    /// <summary>Asks the executor to cancel a batch's unfinished jobs; returns the batch as it is now.</summary>
    Task<BatchInfo> CancelBatchAsync(long batchId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a whole run (driver batch first); returns the ids of its batches, and whether its driver
    /// batch, not yet created, is now withheld for good (a server's run whose dispatch is pending).
    /// </summary>
    Task<CancelledBatches> CancelRunAsync(string arGuid, CancellationToken cancellationToken = default);

    /// <summary>Makes sure an executor works on the batch; returns it as it is now.</summary>
    Task<BatchInfo> ResumeBatchAsync(long batchId, CancellationToken cancellationToken = default);

    /// <summary>Deletes a finished batch (BatchNotFinished while it runs).</summary>
    Task RemoveBatchAsync(long batchId, CancellationToken cancellationToken = default);

    /// <summary>A run's merged config, by its ar_guid.</summary>
    Task<Tomlyn.Model.TomlTable> ReadConfigAsync(string arGuid, CancellationToken cancellationToken = default);

    /// <summary>
    /// A run's merged config by where it is stored (a run's ConfigPath, CPG_CONFIG_PATH). Over HTTP
    /// the path only names the run (the config store keeps a run's config as &lt;ar_guid&gt;.toml); the
    /// server reads its own copy, after checking the caller may read that run.
    /// </summary>
    Task<Tomlyn.Model.TomlTable> ReadConfigAtAsync(string pathOrUri, CancellationToken cancellationToken = default);

    /// <summary>
    /// What a dataset's runs submitted since <paramref name="since"/> used, grouped <paramref name="by"/> day, user or
    /// batch. In-process every run of the home counts (its owner reads its whole log); a server counts
    /// the namespaces the caller may read, and refuses a dataset where that is none.
    /// </summary>
    Task<IReadOnlyList<Usage.UsageRow>> GetUsageAsync(string dataset, DateOnly since, Usage.UsageGrouping by, CancellationToken cancellationToken = default);

    /// <summary>Why a batch that ended did not succeed (BatchFailed/BatchCancelled), null when it succeeded or runs.</summary>
    async Task<AnalysisRunnerException?> FailureOfAsync(BatchInfo batch, CancellationToken cancellationToken = default) =>
        batch.State == BatchState.Failed
            ? BatchOutcome.Failure(batch, await GetJobsAsync(batch.Id, cancellationToken).ConfigureAwait(false))
            : BatchOutcome.Failure(batch, []);
}

/// <summary>One page of the audit log, newest first, and the cursor of the next page (null on the last).</summary>
public sealed record LogPage(IReadOnlyList<RunRecord> Runs, string? NextCursor);

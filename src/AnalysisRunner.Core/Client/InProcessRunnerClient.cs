using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// The embedded transport: the runner home in this process, the caller this OS account. Everything
/// here is what the cmdlets did before they had a client, moved behind the interface unchanged.
/// </summary>
public sealed class InProcessRunnerClient(Deployment deployment) : IRunnerClient
{
    public Deployment Deployment { get; } = deployment ?? throw new ArgumentNullException(nameof(deployment));

    public string Description => $"runner home {Deployment.Home.Root}";

    public Task<CallerInfo> WhoAmIAsync(CancellationToken cancellationToken = default)
    {
        var caller = Deployment.EmbeddedCaller();
        return Task.FromResult(new CallerInfo { User = caller.User, TokenId = caller.Source });
    }

    public Task<HealthReport> GetHealthAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new HealthReport { Status = "ok", Database = Deployment.Home.Root });

    public Task<RunPlan> PlanRunAsync(SubmissionFacts facts, CancellationToken cancellationToken = default) =>
        Task.FromResult(new RunAuthority(Deployment).Plan(facts, Deployment.EmbeddedCaller()));

    public Task<RunPlan> PlanRerunAsync(string arGuid, CancellationToken cancellationToken = default) =>
        new RunAuthority(Deployment).PlanRerunAsync(arGuid, Deployment.EmbeddedCaller(), cancellationToken);

    /// <summary>The plan this process's authority made is written as it is (no second fetch, the same ar_guid -WhatIf would show).</summary>
    public Task<RunRecord> SubmitRunAsync(RunPlan plan, CancellationToken cancellationToken = default) =>
        new RunAuthority(Deployment).SubmitAsync(plan, cancellationToken);

    public async Task<LogPage> QueryAuditLogAsync(LogQuery query, string? cursor, CancellationToken cancellationToken = default)
    {
        var page = await AuditLogPaging.PageAsync(Deployment.RunLog, query, cursor, cancellationToken: cancellationToken).ConfigureAwait(false);
        // Nothing, for a dataset the registry does not know, is a typo rather than an empty log (a
        // dataset since removed from the registry still lists its runs).
        if (page.Runs.Count == 0 && cursor is null && query.Dataset is { } dataset
            && Deployment.LoadRegistry() is var registry && registry.Find(dataset) is null)
            throw registry.NotFound(dataset);
        return page;
    }

    public Task<BatchInfo> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        Deployment.Batches.RequireBatchAsync(batchId, cancellationToken);

    public Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default) =>
        Deployment.Batches.FindBatchesAsync(query, cancellationToken);

    public async Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default)
    {
        await Deployment.Batches.RequireBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
        return await Deployment.Batches.GetJobsAsync(batchId, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        Deployment.Runner.Logs.GetAttemptsAsync(batchId, jobId, cancellationToken);

    public IAsyncEnumerable<string> ReadLogAsync(long batchId, int jobId, int attempt, LogStream stream, bool follow,
        CancellationToken cancellationToken = default) =>
        follow
            ? Deployment.Runner.Logs.FollowAsync(batchId, jobId, attempt, stream, cancellationToken)
            : Deployment.Runner.Logs.ReadAsync(batchId, jobId, attempt, stream, cancellationToken);

    public IAsyncEnumerable<BatchProgress> WatchAsync(IReadOnlyList<long> batchIds, WatchOptions options, CancellationToken cancellationToken = default) =>
        Deployment.Watcher.WatchAsync(batchIds, options, cancellationToken);

    public IAsyncEnumerable<BatchProgress> WatchRunAsync(string arGuid, long driverBatchId, WatchOptions options,
        CancellationToken cancellationToken = default) =>
        Deployment.Watcher.WatchRunAsync(arGuid, driverBatchId, options, cancellationToken);

    public async Task<BatchInfo> CancelBatchAsync(long batchId, CancellationToken cancellationToken = default)
    {
        var batch = await Deployment.Batches.RequireBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
        if (batch.IsComplete) return batch;
        await Deployment.Batches.RequestCancelAsync(batchId, cancellationToken).ConfigureAwait(false);
        Deployment.Executor.Wake();
        return await Deployment.Batches.RequireBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A run whose driver batch is still to be created (a server's run, dispatch pending) is first
    /// marked so no dispatch makes it; whatever batches the run has are then cancelled, and having none
    /// is only an error when nothing was withheld either (RunNotFound).
    /// </summary>
    public async Task<CancelledBatches> CancelRunAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        var withheld = await Deployment.RunLog.CancelPendingDispatchAsync(arGuid, cancellationToken).ConfigureAwait(false);
        // Withheld, the run may still have a batch: one a racing dispatch made before it recorded it (it cancels it too).
        var ids = withheld && (await Deployment.Batches.FindBatchesAsync(new BatchQuery { ArGuid = arGuid }, cancellationToken).ConfigureAwait(false)).Count == 0
            ? []
            : await Deployment.Batches.RequestCancelRunAsync(arGuid, cancellationToken).ConfigureAwait(false);
        Deployment.Executor.Wake();
        return new CancelledBatches(ids) { DriverBatchWithheld = withheld };
    }

    public async Task<BatchInfo> ResumeBatchAsync(long batchId, CancellationToken cancellationToken = default)
    {
        var batch = await Deployment.Batches.RequireBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
        if (batch.State == BatchState.Running) Deployment.Executor.Wake();
        return batch;
    }

    public async Task RemoveBatchAsync(long batchId, CancellationToken cancellationToken = default)
    {
        await Deployment.Batches.RequireBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
        await Deployment.Batches.RemoveAsync(batchId, cancellationToken).ConfigureAwait(false);
    }

    public Task<Log.AuditLogVerification> VerifyAuditLogAsync(CancellationToken cancellationToken = default) =>
        Log.AuditLogCheck.VerifyAsync(Deployment, cancellationToken);

    public async Task<IReadOnlyList<Usage.UsageRow>> GetUsageAsync(string dataset, DateOnly since, Usage.UsageGrouping by,
        CancellationToken cancellationToken = default)
    {
        var rows = await new Usage.DatasetUsage(Deployment.RunLog, Deployment.Batches, Usage.UsageWindow.Default).QueryAsync(dataset, since, by, _ => true, cancellationToken)
            .ConfigureAwait(false);
        // As Get-AnalysisLog: nothing, for a dataset the registry does not know, is a typo rather than no usage.
        if (rows.Count == 0 && Deployment.LoadRegistry() is var registry && registry.Find(dataset) is null)
            throw registry.NotFound(dataset);
        return rows;
    }

    public async Task<Tomlyn.Model.TomlTable> ReadConfigAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        var run = await Deployment.RunLog.FindAsync(arGuid, cancellationToken).ConfigureAwait(false)
            ?? throw RunNotFound(arGuid, Deployment.Home.Root);
        return await Deployment.ReadConfigAsync(run.ConfigPath).ConfigureAwait(false);
    }

    public Task<Tomlyn.Model.TomlTable> ReadConfigAtAsync(string pathOrUri, CancellationToken cancellationToken = default) =>
        Deployment.ReadConfigAsync(pathOrUri);

    internal static AnalysisRunnerException RunNotFound(string arGuid, string where) =>
        new("RunNotFound", ErrorKind.ObjectNotFound, arGuid,
            $"No run with ar_guid '{arGuid}' is in the audit log of {where}; Get-AnalysisLog lists them.");

    /// <summary>The deployment is the cmdlet's (opened once per command), not this client's to close.</summary>
    public void Dispose()
    {
    }
}

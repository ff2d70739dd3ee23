using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// The server transport: every call is one request to AnalysisRunner.Server with the user's bearer
/// token; the server decides who the caller is and checks every request against that caller's
/// memberships. Submitting sends facts only (or the ar_guid of a run to repeat): the server plans
/// and checks again from its own clone, whatever plan this client was shown.
/// </summary>
public sealed class HttpRunnerClient(ServerConnection connection, HttpMessageHandler? handler = null, ServerRetry? retry = null)
    : RunnerHttpClient(connection, handler, retry), IRunnerClient
{
    public string Description => $"server {Connection.Server}";

    /// <summary>
    /// Reads and plans change nothing, and a submission carries its idempotency key: sent again after
    /// a 503 (PostgreSQL down, its COMMIT may have landed), the server answers the run it logged, or
    /// logs it now. Cancels, resumes and removals are not sent again.
    /// </summary>
    protected override bool Repeatable(HttpMethod method, string path, IReadOnlyList<(string Name, string Value)> headers) =>
        method == HttpMethod.Get || path.EndsWith("/plan", StringComparison.Ordinal)
        || headers.Any(header => header.Name == ApiHeaders.IdempotencyKey);

    public async Task<RunPlan> PlanRunAsync(SubmissionFacts facts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var document = await SendAsync<RunPlanDocument>(HttpMethod.Post, RunRoutes.PlanRun, facts, cancellationToken);
        return document.ToPlan(facts, 403);
    }

    public async Task<RunPlan> PlanRerunAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        var document = await SendAsync<RunPlanDocument>(HttpMethod.Post, RunRoutes.PlanRerun(arGuid), null, cancellationToken);
        return document.ToPlan(null!, 403);
    }

    /// <summary>
    /// Submits with a fresh idempotency key, and sends it once more with the same key if the first try
    /// got no answer (connection refused, reset or cut, or no answer in time): the server may have
    /// logged the run before the answer was lost, and the key makes the retry answer that run instead
    /// of logging a second one. A 503 is sent again with the same key as <see cref="RunnerHttpClient.Retry"/>
    /// says (see <see cref="Repeatable"/>); any other answer, even an error, is never retried.
    /// </summary>
    public async Task<RunRecord> SubmitRunAsync(RunPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        (string, string)[] key = [(ApiHeaders.IdempotencyKey, SubmissionKey.NewValue())];
        Task<RunRecord> Send() => plan.Run.RerunOf is { } rerunOf
            ? SendAsync<RunRecord>(HttpMethod.Post, RunRoutes.Rerun(rerunOf), null, key, cancellationToken)
            : SendAsync<RunRecord>(HttpMethod.Post, RunRoutes.Runs, plan.Facts, key, cancellationToken);
        try
        {
            return await Send();
        }
        catch (AnalysisRunnerException unanswered) when (unanswered.ErrorId is "ServerUnreachable" or "ServerTimedOut" && !cancellationToken.IsCancellationRequested)
        {
            return await Send();
        }
    }

    public async Task<LogPage> QueryAuditLogAsync(LogQuery query, string? cursor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = RunRoutes.Runs + Query(
            ("dataset", query.Dataset), ("user", query.User), ("accessLevel", query.AccessLevel?.ToConfigName()),
            ("after", query.After?.ToString("O", CultureInfo.InvariantCulture)), ("before", query.Before?.ToString("O", CultureInfo.InvariantCulture)),
            ("arGuid", query.ArGuid), ("first", query.First?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor));
        return await SendAsync<LogPage>(HttpMethod.Get, path, null, cancellationToken);
    }

    public async Task<BatchInfo> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        (await SendAsync<BatchDetail>(HttpMethod.Get, RunRoutes.Batch(batchId), null, cancellationToken)).Batch;

    public async Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Ids is { Count: > 0 } ids)
        {
            var found = new List<BatchInfo>();
            foreach (var id in ids) found.Add(await GetBatchAsync(id, cancellationToken));
            return found;
        }
        return await SendAsync<List<BatchInfo>>(HttpMethod.Get, RunRoutes.Batches + Query(
            ("arGuid", query.ArGuid), ("state", query.State?.ToString()), ("first", query.First?.ToString(CultureInfo.InvariantCulture)),
            ("beforeId", query.BeforeId?.ToString(CultureInfo.InvariantCulture))),
            null, cancellationToken);
    }

    public async Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default) =>
        (await SendAsync<BatchDetail>(HttpMethod.Get, RunRoutes.Batch(batchId), null, cancellationToken)).Jobs;

    public async Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        await SendAsync<List<JobAttempt>>(HttpMethod.Get, RunRoutes.Attempts(batchId, jobId), null, cancellationToken);

    public async IAsyncEnumerable<string> ReadLogAsync(long batchId, int jobId, int attempt, LogStream stream, bool follow,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = RunRoutes.Log(batchId, jobId, attempt, stream == LogStream.Stderr ? "stderr" : "stdout") + (follow ? "?follow=true" : "");
        await foreach (var item in StreamEventsAsync(HttpMethod.Get, path, null, cancellationToken))
            if (item.Name == "line") yield return ReadEvent<string>(item, path);
    }

    public IAsyncEnumerable<BatchProgress> WatchAsync(IReadOnlyList<long> batchIds, WatchOptions options, CancellationToken cancellationToken = default) =>
        Watch(new WatchRequest { BatchIds = batchIds, Progress = options.Progress, TimeoutSeconds = options.Timeout?.TotalSeconds }, cancellationToken);

    public IAsyncEnumerable<BatchProgress> WatchRunAsync(string arGuid, long driverBatchId, WatchOptions options,
        CancellationToken cancellationToken = default) =>
        Watch(new WatchRequest { ArGuid = arGuid, DriverBatchId = driverBatchId, Progress = options.Progress, TimeoutSeconds = options.Timeout?.TotalSeconds },
            cancellationToken);

    private async IAsyncEnumerable<BatchProgress> Watch(WatchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in StreamEventsAsync(HttpMethod.Post, RunRoutes.Watch, request, cancellationToken))
        {
            if (item.Name != "progress") continue;
            var progress = ReadEvent<WatchEvent>(item, RunRoutes.Watch);
            yield return new BatchProgress(progress.Batches, TimeSpan.FromSeconds(progress.ElapsedSeconds));
        }
    }

    public Task<BatchInfo> CancelBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        SendAsync<BatchInfo>(HttpMethod.Post, RunRoutes.CancelBatch(batchId), null, cancellationToken);

    public Task<CancelledBatches> CancelRunAsync(string arGuid, CancellationToken cancellationToken = default) =>
        SendAsync<CancelledBatches>(HttpMethod.Post, RunRoutes.CancelRun(arGuid), null, cancellationToken);

    public Task<BatchInfo> ResumeBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        SendAsync<BatchInfo>(HttpMethod.Post, RunRoutes.ResumeBatch(batchId), null, cancellationToken);

    public Task RemoveBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, RunRoutes.Batch(batchId), null, cancellationToken);

    public async Task<Tomlyn.Model.TomlTable> ReadConfigAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        var detail = await SendAsync<ConfigDetail>(HttpMethod.Get, RunRoutes.Config(arGuid), null, cancellationToken);
        return Config.TomlFiles.Parse(detail.Toml, $"{Connection.Server} config of run {arGuid}");
    }

    public Task<Tomlyn.Model.TomlTable> ReadConfigAtAsync(string pathOrUri, CancellationToken cancellationToken = default)
    {
        var name = Path.GetFileName(pathOrUri.TrimEnd('/'));
        return name.EndsWith(".toml", StringComparison.Ordinal) && Guid.TryParse(name[..^5], out _)
            ? ReadConfigAsync(name[..^5], cancellationToken)
            : throw new AnalysisRunnerException("ConfigNotOnServer", ErrorKind.InvalidArgument, pathOrUri,
                $"'{pathOrUri}' is not a run's config as the server stores them (<ar_guid>.toml); give -ArGuid, or pipe a run from Get-AnalysisLog.");
    }

    public async Task<IReadOnlyList<Usage.UsageRow>> GetUsageAsync(string dataset, DateOnly since, Usage.UsageGrouping by,
        CancellationToken cancellationToken = default) =>
        await SendAsync<List<Usage.UsageRow>>(HttpMethod.Get, RunRoutes.Usage(dataset) + Query(
            ("since", since.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("by", by.ToString())), null, cancellationToken);
}

using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Batch.Execution;

namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>
/// [executor] runner for most datasets, and another for the datasets [executor.datasets.&lt;name&gt;]
/// names: e.g. local processes by default and Slurm for a dataset whose jobs need a cluster. Which one
/// a batch's jobs go to is decided by the verified run's dataset (the audit log's), never by the batch.
/// </summary>
internal sealed class DatasetRunnerBackend(IJobRunnerBackend fallback, IReadOnlyDictionary<string, IJobRunnerBackend> byDataset, IBatchStore store)
    : IJobRunnerBackend
{
    public string Name => fallback.Name;

    /// <summary>What a job outside any run may ask for; a run's jobs are checked against For(its dataset).</summary>
    public RunnerCapacity Capacity => fallback.Capacity;

    public IJobLogReader Logs { get; } = new DatasetJobLogs(fallback, byDataset, store);

    public IJobRunnerBackend For(string? dataset) => dataset is not null && byDataset.TryGetValue(dataset, out var backend) ? backend : fallback;

    IJobRunner IJobRunnerBackend.CreateRunner(ExecutorOptions options, IAttemptSink sink, TextWriter log)
    {
        var runners = new Dictionary<IJobRunnerBackend, IJobRunner>(ReferenceEqualityComparer.Instance);
        IJobRunner RunnerOf(IJobRunnerBackend backend) =>
            runners.TryGetValue(backend, out var runner) ? runner : runners[backend] = backend.CreateRunner(options, sink, log);
        var fallbackRunner = RunnerOf(fallback);
        var byDatasetRunners = byDataset.ToDictionary(pair => pair.Key, pair => RunnerOf(pair.Value), StringComparer.Ordinal);
        return new DatasetJobRunner(fallbackRunner, byDatasetRunners, runners.Values.ToList());
    }

    /// <summary>A batch's dataset attribute: only a run's batch has one, and submit refuses any but the run's own (BatchSubmitter.ProtectedAttributes).</summary>
    internal static async Task<string?> DatasetOfAsync(IBatchStore store, long batchId, CancellationToken cancellationToken) =>
        (await store.GetBatchAsync(batchId, cancellationToken).ConfigureAwait(false))?.Attributes.GetValueOrDefault("dataset");
}

/// <summary>
/// The executor's runners, one per backend, behind one IJobRunner: the scheduler asks For(dataset)
/// before anything that concerns one attempt; recovery and shutdown go to all of them.
/// </summary>
internal sealed class DatasetJobRunner(IJobRunner fallback, IReadOnlyDictionary<string, IJobRunner> byDataset, IReadOnlyList<IJobRunner> all) : IJobRunner
{
    public RunnerCapacity Capacity => fallback.Capacity;

    public bool StartsAfterParents => fallback.StartsAfterParents;

    public IJobRunner For(string? dataset) => dataset is not null && byDataset.TryGetValue(dataset, out var runner) ? runner : fallback;

    public string ReserveLog(AttemptKey key) => throw Unrouted();

    public void Start(AttemptLaunch launch, string log) => throw Unrouted();

    public void Stop(AttemptKey key, string reason) => throw Unrouted();

    public void Adopt(AttemptLaunch launch, RecoveredAttempt attempt) => throw Unrouted();

    /// <summary>
    /// Each runner recovers the batches of its datasets, and only those: the local runner must not take
    /// a Slurm job running on this machine (a node of the cluster) for an orphan of its own. Every runner
    /// is asked, even with no batch, so it can clean up what no batch wants.
    /// </summary>
    public IReadOnlyList<RecoveredAttempt> Recover(IReadOnlyDictionary<long, string?> batches) =>
        all.SelectMany(runner => runner.Recover(batches.Where(batch => For(batch.Value) == runner).ToDictionary())).ToList();

    public void BatchFinished(long batchId)
    {
        foreach (var runner in all) runner.BatchFinished(batchId);
    }

    public void Dispose()
    {
        foreach (var runner in all) runner.Dispose();
    }

    private static InvalidOperationException Unrouted([CallerMemberName] string? call = null) =>
        new($"{call} must go to the runner of the attempt's dataset (For(dataset)), not to the per-dataset runner itself.");
}

/// <summary>Logs through the backend that ran the batch: the one its dataset attribute (set from the verified run, protected at submit) names.</summary>
internal sealed class DatasetJobLogs(IJobRunnerBackend fallback, IReadOnlyDictionary<string, IJobRunnerBackend> byDataset, IBatchStore store) : IJobLogReader
{
    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        store.GetAttemptsAsync(batchId, jobId, cancellationToken);

    public async IAsyncEnumerable<string> ReadAsync(long batchId, int jobId, int attempt, LogStream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = await ReaderOfAsync(batchId, cancellationToken).ConfigureAwait(false);
        await foreach (var line in reader.ReadAsync(batchId, jobId, attempt, stream, cancellationToken).ConfigureAwait(false)) yield return line;
    }

    public async IAsyncEnumerable<string> FollowAsync(long batchId, int jobId, int attempt, LogStream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = await ReaderOfAsync(batchId, cancellationToken).ConfigureAwait(false);
        await foreach (var line in reader.FollowAsync(batchId, jobId, attempt, stream, cancellationToken).ConfigureAwait(false)) yield return line;
    }

    private async Task<IJobLogReader> ReaderOfAsync(long batchId, CancellationToken cancellationToken) =>
        (await DatasetRunnerBackend.DatasetOfAsync(store, batchId, cancellationToken).ConfigureAwait(false) is { } dataset
         && byDataset.TryGetValue(dataset, out var backend) ? backend : fallback).Logs;
}

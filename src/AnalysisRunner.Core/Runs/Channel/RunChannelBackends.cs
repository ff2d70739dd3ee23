using System.Diagnostics;
using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Watching;

namespace AnalysisRunner.Core.Runs.Channel;

// What Deployment hands out inside a sandboxed job: the same interfaces the cmdlets use over the
// runner home, answered by the executor through the job's run channel (one concern: that transport).

/// <summary>The batch store of a sandboxed job: its run's batches, read and submitted through the executor.</summary>
internal sealed class ChannelBatchStore(RunChannel channel) : IBatchStore
{
    public async Task<long> SubmitAsync(BatchSpec spec, CancellationToken cancellationToken = default) =>
        (await channel.SubmitAsync(spec, cancellationToken).ConfigureAwait(false)).Id;

    public Task<BatchInfo?> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) => channel.GetBatchAsync(batchId, cancellationToken);

    public Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default) =>
        channel.FindBatchesAsync(query, cancellationToken);

    public Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default) => channel.GetJobsAsync(batchId, cancellationToken);

    public Task<JobInfo?> GetJobAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        channel.GetJobAsync(batchId, jobId, cancellationToken);

    public Task RequestCancelAsync(long batchId, CancellationToken cancellationToken = default) => channel.RequestCancelAsync(batchId, cancellationToken);

    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        channel.GetAttemptsAsync(batchId, jobId, cancellationToken);

    public Task RemoveAsync(long batchId, CancellationToken cancellationToken = default) =>
        Task.FromException(RunChannelRefusals.NotInAJob("removing a batch"));
}

/// <summary>Where a sandboxed job's batches run, as far as it may know: the largest job, and the logs.</summary>
internal sealed class ChannelRunnerBackend(RunChannel channel) : IJobRunnerBackend
{
    public string Name => "run-channel";

    public RunnerCapacity Capacity
    {
        get
        {
            var identity = channel.Identity();
            return RunnerCapacity.OneMachine(identity.LargestJobCpu, identity.LargestJobMemoryBytes);
        }
    }

    public IJobLogReader Logs { get; } = new ChannelJobLogs(channel);

    IJobRunner IJobRunnerBackend.CreateRunner(ExecutorOptions options, IAttemptSink sink, TextWriter log) =>
        throw RunChannelRefusals.NotInAJob("running an executor");
}

internal sealed class ChannelJobLogs(RunChannel channel) : IJobLogReader
{
    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        channel.GetAttemptsAsync(batchId, jobId, cancellationToken);

    public IAsyncEnumerable<string> ReadAsync(long batchId, int jobId, int attempt, LogStream stream, CancellationToken cancellationToken = default) =>
        channel.ReadLogAsync(batchId, jobId, attempt, stream, follow: false, cancellationToken);

    public IAsyncEnumerable<string> FollowAsync(long batchId, int jobId, int attempt, LogStream stream, CancellationToken cancellationToken = default) =>
        channel.ReadLogAsync(batchId, jobId, attempt, stream, follow: true, cancellationToken);
}

/// <summary>Waits in the executor: one answer when every batch is complete (no progress on the way).</summary>
internal sealed class ChannelBatchWatcher(RunChannel channel) : IBatchWatcher
{
    public async IAsyncEnumerable<BatchProgress> WatchAsync(IReadOnlyList<long> batchIds, WatchOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var batches = await channel.WaitAsync(batchIds, options.Timeout, cancellationToken).ConfigureAwait(false);
        yield return new BatchProgress(batches, clock.Elapsed);
    }

    public IAsyncEnumerable<BatchProgress> WatchRunAsync(string arGuid, long driverBatchId, WatchOptions options, CancellationToken cancellationToken = default) =>
        throw RunChannelRefusals.NotInAJob("waiting for a whole run (its driver waits for itself)");
}

/// <summary>The executor wakes itself when a batch comes in over the channel.</summary>
internal sealed class ChannelExecutorClient : IExecutorClient
{
    public void Wake() { }
}

internal static class RunChannelRefusals
{
    public const string ErrorId = "NotAllowedInSandboxedJob";

    public static AnalysisRunnerException NotInAJob(string what) =>
        new(ErrorId, ErrorKind.PermissionDenied, what,
            $"A sandboxed job reaches the runner only through its run channel, which does not offer {what}.");
}

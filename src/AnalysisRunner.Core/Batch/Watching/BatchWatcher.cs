using System.Diagnostics;
using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Watching;

/// <summary>
/// Waits on the executor's socket: the database is read when the executor says a batch ended (or,
/// for progress, that jobs moved — at most once per interval), not on a timer. With no executor
/// listening it waits for one to open its socket.
/// </summary>
internal sealed class BatchWatcher(RunnerHome home, IBatchStore store) : IBatchWatcher
{
    /// <summary>
    /// With no executor listening, how long to wait for one to appear before reading the database
    /// again anyway: a safety net only (the socket's appearance wakes the wait). Connected, the wait
    /// has none: the executor says when a batch ends, and says it is gone by closing the connection.
    /// </summary>
    private static readonly TimeSpan LongestWaitForAnExecutor = TimeSpan.FromSeconds(30);

    public async IAsyncEnumerable<BatchProgress> WatchAsync(IReadOnlyList<long> batchIds, WatchOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var progress in Watch(batchIds, options, Stopwatch.StartNew(), cancellationToken).ConfigureAwait(false))
            yield return progress;
    }

    public async IAsyncEnumerable<BatchProgress> WatchRunAsync(string arGuid, long driverBatchId, WatchOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var waited = new Dictionary<long, BatchInfo>();
        var pending = new List<long> { driverBatchId };
        while (pending.Count > 0)
        {
            BatchProgress? last = null;
            await foreach (var progress in Watch(pending, options, clock, cancellationToken).ConfigureAwait(false))
            {
                if (!progress.Complete) yield return progress with { Batches = [.. waited.Values, .. progress.Batches] };
                last = progress;
            }
            foreach (var batch in last!.Batches) waited[batch.Id] = batch;
            pending = (await store.FindBatchesAsync(new BatchQuery { ArGuid = arGuid }, cancellationToken).ConfigureAwait(false))
                .Select(batch => batch.Id).Where(id => !waited.ContainsKey(id)).ToList();
        }
        yield return new BatchProgress(waited.Values.OrderBy(batch => batch.Id).ToList(), clock.Elapsed);
    }

    private async IAsyncEnumerable<BatchProgress> Watch(IReadOnlyList<long> batchIds, WatchOptions options, Stopwatch clock,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var socketFolder = Path.GetDirectoryName(ExecutorSocket.PathFor(home))!;
        using var appears = new DirectoryWatch([socketFolder]);
        var signals = ExecutorSignals.TryConnect(home, options.Progress);
        var lastRead = TimeSpan.MinValue;
        try
        {
            while (true)
            {
                var batches = new List<BatchInfo>(batchIds.Count);
                foreach (var id in batchIds) batches.Add(await store.RequireBatchAsync(id, cancellationToken).ConfigureAwait(false));
                var progress = new BatchProgress(batches, clock.Elapsed);
                lastRead = clock.Elapsed;
                if (progress.Complete)
                {
                    yield return progress;
                    yield break;
                }
                if (options.Progress) yield return progress;
                if (options.Timeout is { } limit && clock.Elapsed > limit)
                    throw new AnalysisRunnerException("WaitTimedOut", ErrorKind.OperationTimeout, batchIds.Count == 1 ? batchIds[0] : batchIds,
                        $"Waiting for batch{(batchIds.Count == 1 ? "" : "es")} {string.Join(", ", batchIds)} timed out after {limit.TotalSeconds:0.#} s " +
                        $"with {progress.DoneJobs}/{progress.TotalJobs} jobs done; {(batchIds.Count == 1 ? "it goes" : "they go")} on running (Stop-Batch cancels).");
                TimeSpan? untilTimeout = options.Timeout is { } t ? Max(t - clock.Elapsed, TimeSpan.Zero) + TimeSpan.FromMilliseconds(1) : null;
                signals ??= ExecutorSignals.TryConnect(home, options.Progress);
                if (signals is null)
                {
                    var waitForOne = untilTimeout is { } left ? Min(left, LongestWaitForAnExecutor) : LongestWaitForAnExecutor;
                    await Task.Run(() => appears.Wait(waitForOne)).WaitAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var wait = untilTimeout;
                var handle = signals.Handle;
                // A cancelled wait ends the poll too (shutting the connection down makes it readable), so no thread stays behind.
                var following = signals;
                using (cancellationToken.Register(following.Shutdown))
                    if (await Task.Run(() => Poll.WaitAny([handle], wait)).WaitAsync(cancellationToken).ConfigureAwait(false) < 0) continue;
                var seen = signals.Drain();
                if (seen.HasFlag(Signal.Gone))
                {
                    signals.Dispose();
                    signals = null;
                }
                else if (seen == Signal.Changed && clock.Elapsed - lastRead < options.ProgressInterval)
                {
                    // Jobs moved: the bar moves at most once per interval, however fast they end.
                    await Task.Delay(options.ProgressInterval - (clock.Elapsed - lastRead), cancellationToken).ConfigureAwait(false);
                    if (signals.Drain().HasFlag(Signal.Gone)) { signals.Dispose(); signals = null; }
                }
            }
        }
        finally
        {
            signals?.Dispose();
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// Reads local jobs' output from their batch's log lanes: each attempt's stretch, as the store
/// recorded it when the attempt started and ended. Following an attempt waits on the batch's log
/// folder (inotify) and on the executor's change signal, not on a timer.
/// </summary>
internal sealed class LocalJobLogs(RunnerHome home, IBatchStore store) : IJobLogReader
{
    /// <summary>A safety net only: a change the folder and the executor both failed to signal is seen this late.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(2);

    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        store.GetAttemptsAsync(batchId, jobId, cancellationToken);

    public async IAsyncEnumerable<string> ReadAsync(long batchId, int jobId, int attempt, LogStream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var found = await FindAsync(batchId, jobId, attempt, cancellationToken).ConfigureAwait(false);
        if (found is not { Log: { } log }) yield break;
        var range = log[stream];
        using var reader = new LaneReader(LocalLayout.Lane(home, batchId, range.Lane), range.Start);
        foreach (var line in reader.Read(range.End ?? reader.Length, final: true)) yield return line;
    }

    public async IAsyncEnumerable<string> FollowAsync(long batchId, int jobId, int attempt, LogStream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var changes = new BatchLogChanges(home, LocalLayout.BatchLogs(home, batchId), LongestWait);
        LaneReader? reader = null;
        try
        {
            while (true)
            {
                var found = await FindAsync(batchId, jobId, attempt, cancellationToken).ConfigureAwait(false);
                if (found is { Log: { } log })
                {
                    var range = log[stream];
                    reader ??= new LaneReader(LocalLayout.Lane(home, batchId, range.Lane), range.Start);
                    var ended = found.Ended;
                    foreach (var line in reader.Read(ended ? range.End ?? reader.Length : reader.Length, final: ended)) yield return line;
                    if (ended) yield break;
                }
                else if (found is { Ended: true }) yield break;
                await changes.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            reader?.Dispose();
        }
    }

    /// <summary>The attempt's stretch of the lanes (null before it has started), and whether it has ended.</summary>
    private async Task<(LaneLog? Log, bool Ended)> FindAsync(long batchId, int jobId, int attempt, CancellationToken cancellationToken)
    {
        var (record, ended) = await AttemptLogState.FindAsync(store, batchId, jobId, attempt, cancellationToken).ConfigureAwait(false);
        if (record is null) return (null, ended);
        var log = LaneLog.TryParse(record.RunnerLog);
        if (log is { } known && ended && (known.Stdout.End is null || known.Stderr.End is null))
            log = Settle(batchId, jobId, attempt, known);
        return (log, ended);
    }

    /// <summary>An ended attempt whose end was not recorded (the database lost it): its stretch ends where the ledger says the next one starts.</summary>
    private LaneLog Settle(long batchId, int jobId, int attempt, LaneLog log)
    {
        var starts = BatchLedger.Read(home, batchId).Starts.Where(pair => pair.Key != (jobId, attempt)).SelectMany(pair => new[] { pair.Value.Stdout, pair.Value.Stderr }).ToList();
        LaneRange Close(LaneRange range) => range.End is not null ? range : range with
        {
            End = starts.Where(s => s.Lane == range.Lane && s.Start >= range.Start).Select(s => (long?)s.Start).Min(),
        };
        return new LaneLog(Close(log.Stdout), Close(log.Stderr));
    }

    /// <summary>Reads a lane from a start offset as UTF-8 lines, keeping a line's unfinished tail for the next read.</summary>
    private sealed class LaneReader(string path, long start) : IDisposable
    {
        // Never through a link: a job can replace its batch's lane by one (its log folder is writable in its sandbox).
        private readonly FileStream? _file = Native.LinkFreePaths.OpenRead(path);
        private readonly Utf8LineSplitter _lines = new();
        private readonly byte[] _bytes = new byte[1 << 16];
        private long _position = start;

        public long Length => _file?.Length ?? 0;

        /// <summary>The whole lines up to <paramref name="end"/>; with <paramref name="final"/>, the unfinished last line too.</summary>
        public IEnumerable<string> Read(long end, bool final)
        {
            if (_file is not null)
            {
                while (_position < end)
                {
                    _file.Position = _position;
                    var count = _file.Read(_bytes, 0, (int)Math.Min(_bytes.Length, end - _position));
                    if (count <= 0) break;
                    _position += count;
                    foreach (var line in _lines.Split(_bytes, count)) yield return line;
                }
            }
            if (final && _lines.Rest() is { } rest) yield return rest;
        }

        public void Dispose() => _file?.Dispose();
    }
}

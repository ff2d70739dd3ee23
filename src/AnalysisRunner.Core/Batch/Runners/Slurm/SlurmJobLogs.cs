using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// Reads Slurm jobs' output from the files sbatch --output/--error name (the store records each
/// attempt's stem). Following waits on the batch's log folder (inotify) and the executor's change
/// signal; on a network file system, where another node's writes raise no inotify event, the short
/// safety wait is what sees them.
/// </summary>
internal sealed class SlurmJobLogs(RunnerHome home, IBatchStore store) : IJobLogReader
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(1);

    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        store.GetAttemptsAsync(batchId, jobId, cancellationToken);

    public async IAsyncEnumerable<string> ReadAsync(long batchId, int jobId, int attempt, LogStream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (stem, _) = await FindAsync(batchId, jobId, attempt, cancellationToken).ConfigureAwait(false);
        if (stem is null) yield break;
        using var reader = new TailReader(SlurmLayout.Output(stem, stream));
        foreach (var line in reader.Read(final: true)) yield return line;
    }

    public async IAsyncEnumerable<string> FollowAsync(long batchId, int jobId, int attempt, LogStream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var changes = new BatchLogChanges(home, SlurmLayout.BatchLogs(home, batchId), LongestWait);
        TailReader? reader = null;
        try
        {
            while (true)
            {
                var (stem, ended) = await FindAsync(batchId, jobId, attempt, cancellationToken).ConfigureAwait(false);
                if (stem is not null)
                {
                    reader ??= new TailReader(SlurmLayout.Output(stem, stream));
                    foreach (var line in reader.Read(final: ended)) yield return line;
                    if (ended) yield break;
                }
                else if (ended) yield break;
                await changes.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            reader?.Dispose();
        }
    }

    /// <summary>
    /// The attempt's stem once it has one: always where the runner puts it (SlurmLayout.LogStem), never the
    /// path the store records. In PostgreSQL the attempts table is writable by whoever reaches the database
    /// (a job sharing the host's network), and a recorded stem was read as any path: a job pointed its own
    /// attempt at another dataset's job's output (or any *.out file the runner can read) and read it with
    /// Get-BatchJobLog on its own batch.
    /// </summary>
    private async Task<(string? Stem, bool Ended)> FindAsync(long batchId, int jobId, int attempt, CancellationToken cancellationToken)
    {
        var (record, ended) = await AttemptLogState.FindAsync(store, batchId, jobId, attempt, cancellationToken).ConfigureAwait(false);
        return (string.IsNullOrEmpty(record?.RunnerLog) ? null : SlurmLayout.LogStem(home, new AttemptKey(batchId, jobId, attempt)), ended);
    }

    /// <summary>Reads a file as UTF-8 lines from where it last stopped, keeping an unfinished last line for the next read; a file not there yet reads as empty.</summary>
    private sealed class TailReader(string path) : IDisposable
    {
        private readonly Utf8LineSplitter _lines = new();
        private readonly byte[] _bytes = new byte[1 << 16];
        private FileStream? _file;

        public IEnumerable<string> Read(bool final)
        {
            // Never through a link, like the local runner's lanes: the job writes in the folder its output is in,
            // so it can replace its output file by a link to a key of the home (Get-BatchJobLog would show it).
            _file ??= Native.LinkFreePaths.OpenRead(path);
            if (_file is not null)
            {
                int count;
                while ((count = _file.Read(_bytes, 0, _bytes.Length)) > 0)
                    foreach (var line in _lines.Split(_bytes, count)) yield return line;
            }
            if (final && _lines.Rest() is { } rest) yield return rest;
        }

        public void Dispose() => _file?.Dispose();
    }
}

namespace AnalysisRunner.Core.Batch.Runners;

public enum LogStream
{
    Stdout,
    Stderr,
}

/// <summary>
/// Reads what jobs wrote and how each attempt ended, through the runner that ran them (the store
/// records only where the runner said an attempt's output is). Cmdlets, the server and its pages use
/// this; none of them opens a runner's files.
/// </summary>
public interface IJobLogReader
{
    /// <summary>Every attempt a job has had so far, first to latest, with how it ended.</summary>
    Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default);

    /// <summary>The lines one attempt wrote to one stream so far (all of them once it has ended).</summary>
    IAsyncEnumerable<string> ReadAsync(long batchId, int jobId, int attempt, LogStream stream, CancellationToken cancellationToken = default);

    /// <summary>The lines of one attempt's stream as they are written, until the attempt has ended and everything is read.</summary>
    IAsyncEnumerable<string> FollowAsync(long batchId, int jobId, int attempt, LogStream stream, CancellationToken cancellationToken = default);
}

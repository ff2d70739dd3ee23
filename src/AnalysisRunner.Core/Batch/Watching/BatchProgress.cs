namespace AnalysisRunner.Core.Batch.Watching;

/// <summary>Batches as they stood at one moment of a wait: the counts a progress bar shows.</summary>
public sealed record BatchProgress(IReadOnlyList<BatchInfo> Batches, TimeSpan Elapsed)
{
    public int TotalJobs => Batches.Sum(batch => batch.TotalJobs);
    public int DoneJobs => Batches.Sum(batch => batch.SucceededJobs + batch.FailedJobs + batch.CancelledJobs);
    public int RunningJobs => Batches.Sum(batch => batch.RunningJobs);
    public int FailedJobs => Batches.Sum(batch => batch.FailedJobs);
    public bool Complete => Batches.All(batch => batch.IsComplete);
}

/// <summary>How to wait: for how long at most, and whether to report progress on the way (or only the end).</summary>
public sealed record WatchOptions
{
    /// <summary>Past this, the wait fails with WaitTimedOut (the batches go on running).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Report a snapshot whenever jobs change (at most every ProgressInterval); without it only the end is reported.</summary>
    public bool Progress { get; init; }

    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// Waits for batches the executor runs, for cmdlets, the server and its pages alike: the last
/// snapshot it yields is the one where every batch is complete. It blocks on the executor's signals,
/// so a long wait costs next to nothing.
/// </summary>
public interface IBatchWatcher
{
    IAsyncEnumerable<BatchProgress> WatchAsync(IReadOnlyList<long> batchIds, WatchOptions options, CancellationToken cancellationToken = default);

    /// <summary>The driver batch of a run, then every batch the driver submitted (same ar_guid), until none is left running.</summary>
    IAsyncEnumerable<BatchProgress> WatchRunAsync(string arGuid, long driverBatchId, WatchOptions options, CancellationToken cancellationToken = default);
}

namespace AnalysisRunner.Core.Usage;

/// <summary>How Get-AnalysisUsage and the usage page group a dataset's jobs.</summary>
public enum UsageGrouping
{
    Day,
    User,
    Batch,
}

/// <summary>
/// One group of a dataset's usage (a day, a user or a batch): how many jobs ran, the CPU-seconds
/// they used (user + system), memory in GiB-seconds (peak resident memory × wall time) and their wall
/// seconds, summed over every attempt. An attempt the runner could not measure (it is still running,
/// it ran before usage was recorded, or its runner does not report it) counts what it was given (CPU and
/// memory × the time it ran) instead; AllocatedOnlyJobs says how many jobs that is.
/// </summary>
public sealed record UsageRow
{
    public required string Dataset { get; init; }
    public required UsageGrouping By { get; init; }

    /// <summary>The day (yyyy-MM-dd, UTC, of the job's start), the user (the run's author) or the batch id.</summary>
    public required string Key { get; init; }
    public int Jobs { get; init; }
    public double CpuSeconds { get; init; }
    public double MemoryGibSeconds { get; init; }
    public double WallSeconds { get; init; }
    public int AllocatedOnlyJobs { get; init; }
}

/// <summary>A dataset's usage since a day, grouped all three ways at once (the usage page's view).</summary>
public sealed record UsageReport(string Dataset, DateOnly Since, IReadOnlyList<UsageRow> ByDay, IReadOnlyList<UsageRow> ByUser, IReadOnlyList<UsageRow> ByBatch);

using System.Globalization;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Log;

namespace AnalysisRunner.Core.Usage;

/// <summary>
/// Who used what on a dataset: every job of its runs submitted since a day, from the store of record
/// for runs (whose runs: the home's log, or the server's) and the batch store (what each attempt used). The one query behind Get-AnalysisUsage and the
/// usage page, so both show the same figures. Which namespaces a caller may see is the caller's to
/// decide (the page: DatasetReadAccess; the cmdlet: as Get-AnalysisLog) and is passed in.
/// <para>
/// Its cost: one query for the runs since the first day (which <see cref="UsageWindow"/> bounds), then
/// per run one for its batches, per batch one for its jobs and one for all their attempts.
/// </para>
/// </summary>
public sealed class DatasetUsage(IRunLog runs, IBatchStore batches, UsageWindow window)
{
    private const double Gib = 1L << 30;

    /// <summary>Where the cmdlet, the page and the API start counting when the caller names no day: 30 days ago (UTC).</summary>
    public static DateOnly DefaultSince() => DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-30);

    private sealed record JobUsage(DateOnly Day, string User, long BatchId, double CpuSeconds, double MemoryGibSeconds, double WallSeconds, bool Measured);

    public async Task<IReadOnlyList<UsageRow>> QueryAsync(string dataset, DateOnly since, UsageGrouping by, Func<AccessLevel, bool> includes,
        CancellationToken cancellationToken = default) =>
        Group(dataset, await JobsAsync(dataset, since, includes, cancellationToken).ConfigureAwait(false), by);

    public async Task<UsageReport> ReportAsync(string dataset, DateOnly since, Func<AccessLevel, bool> includes, CancellationToken cancellationToken = default)
    {
        var jobs = await JobsAsync(dataset, since, includes, cancellationToken).ConfigureAwait(false);
        return new UsageReport(dataset, since, Group(dataset, jobs, UsageGrouping.Day), Group(dataset, jobs, UsageGrouping.User),
            Group(dataset, jobs, UsageGrouping.Batch));
    }

    private async Task<List<JobUsage>> JobsAsync(string dataset, DateOnly since, Func<AccessLevel, bool> includes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(includes);
        var now = DateTimeOffset.UtcNow;
        window.Check(since, DateOnly.FromDateTime(now.UtcDateTime));
        var from = new DateTimeOffset(since.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var jobs = new List<JobUsage>();
        await foreach (var run in runs.QueryAsync(new LogQuery { Dataset = dataset, After = from }, cancellationToken).ConfigureAwait(false))
        {
            if (!includes(run.AccessLevel)) continue;
            foreach (var batch in await batches.FindBatchesAsync(new BatchQuery { ArGuid = run.ArGuid }, cancellationToken).ConfigureAwait(false))
            {
                // Jobs before attempts: a job that started between the two reads then has its attempt.
                var batchJobs = await batches.GetJobsAsync(batch.Id, cancellationToken).ConfigureAwait(false);
                var attemptsOf = (await batches.GetBatchAttemptsAsync(batch.Id, cancellationToken).ConfigureAwait(false)).ToLookup(attempt => attempt.JobId);
                foreach (var job in batchJobs)
                {
                    if (job.Started is not { } started) continue;
                    double cpu = 0, memory = 0, wall = 0;
                    var measured = true;
                    foreach (var attempt in attemptsOf[job.JobId])
                    {
                        if (attempt.Started is not { } begun) continue;
                        if (attempt is { CpuSeconds: { } used, PeakMemoryBytes: { } peak, WallSeconds: { } seconds })
                        {
                            cpu += used;
                            memory += peak / Gib * seconds;
                            wall += seconds;
                            continue;
                        }
                        // Not measured: what it was given, for as long as it ran (so far, while it runs).
                        measured = false;
                        var span = Math.Max(0, ((attempt.Ended ?? now) - begun).TotalSeconds);
                        cpu += job.Cpu * span;
                        memory += job.MemoryBytes / Gib * span;
                        wall += span;
                    }
                    jobs.Add(new JobUsage(DateOnly.FromDateTime(started.UtcDateTime), run.User, batch.Id, cpu, memory, wall, measured));
                }
            }
        }
        return jobs;
    }

    private static List<UsageRow> Group(string dataset, List<JobUsage> jobs, UsageGrouping by)
    {
        Func<JobUsage, string> key = by switch
        {
            UsageGrouping.Day => job => job.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            UsageGrouping.User => job => job.User,
            _ => job => job.BatchId.ToString(CultureInfo.InvariantCulture),
        };
        var groups = jobs.GroupBy(key);
        // Batches in id order; days (ISO dates) and users in text order.
        var ordered = by == UsageGrouping.Batch
            ? groups.OrderBy(group => group.First().BatchId)
            : groups.OrderBy(group => group.Key, StringComparer.Ordinal);
        return ordered.Select(group => new UsageRow
        {
            Dataset = dataset,
            By = by,
            Key = group.Key,
            Jobs = group.Count(),
            CpuSeconds = group.Sum(job => job.CpuSeconds),
            MemoryGibSeconds = group.Sum(job => job.MemoryGibSeconds),
            WallSeconds = group.Sum(job => job.WallSeconds),
            AllocatedOnlyJobs = group.Count(job => !job.Measured),
        }).ToList();
    }
}

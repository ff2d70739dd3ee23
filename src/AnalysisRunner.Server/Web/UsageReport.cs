using AnalysisRunner.Core;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Server.Web;

/// <summary>One group of a dataset's usage: jobs that ran, and the CPU and memory they held for as long as they ran.</summary>
public sealed record UsageRow(string Key, int Jobs, double CpuSeconds, double MemoryGibSeconds);

public sealed record UsageReport(string Dataset, DateOnly Since, IReadOnlyList<UsageRow> ByDay, IReadOnlyList<UsageRow> ByUser, IReadOnlyList<UsageRow> ByBatch);

/// <summary>
/// Who used what on a dataset: every job of its runs since a day, in the namespaces the caller may
/// read. The figures are what each job was given (its CPU and memory) for as long as it ran (started to
/// ended), since the executor does not yet record what a process actually used.
/// </summary>
public sealed class UsageReader(RunnerHomeAccess home)
{
    public UsageReport Read(string caller, string dataset, DateOnly since)
    {
        var deployment = home.Deployment;
        var registry = deployment.LoadRegistry();
        var readable = new[] { "test", "main" }.Where(ns => DatasetReadAccess.MayRead(registry, caller, dataset, ns)).ToHashSet();
        if (readable.Count == 0) DatasetReadAccess.Check(registry, caller, dataset, "test");
        var jobs = new List<(DateOnly Day, string User, long Batch, double Cpu, double Memory)>();
        var from = new DateTimeOffset(since.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        foreach (var run in deployment.AuditLog.Query(new LogQuery { Dataset = dataset, After = from }))
        {
            if (!readable.Contains(run.AccessLevel.Namespace())) continue;
            foreach (var batch in deployment.Batches.FindBatches(new Core.Batch.BatchQuery { ArGuid = run.ArGuid }))
                foreach (var job in deployment.Batches.GetJobs(batch.Id))
                {
                    if (job.Started is not { } started) continue;
                    var seconds = Math.Max(0, ((job.Ended ?? DateTimeOffset.UtcNow) - started).TotalSeconds);
                    jobs.Add((DateOnly.FromDateTime(started.UtcDateTime), run.User, batch.Id, job.Cpu * seconds, job.MemoryBytes / (double)(1L << 30) * seconds));
                }
        }
        IReadOnlyList<UsageRow> By<TKey>(Func<(DateOnly Day, string User, long Batch, double Cpu, double Memory), TKey> key, Func<TKey, string> name) =>
            jobs.GroupBy(key).OrderBy(group => group.Key).Select(group =>
                new UsageRow(name(group.Key), group.Count(), group.Sum(job => job.Cpu), group.Sum(job => job.Memory))).ToList();
        return new UsageReport(dataset, since,
            By(job => job.Day, day => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
            By(job => job.User, user => user),
            By(job => job.Batch, id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}

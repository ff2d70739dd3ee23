using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Server.Web;

/// <summary>What the audit-log page asks for: all filters optional; Cursor is the opaque "next page" of the page before.</summary>
public sealed record RunFilter
{
    public string? User { get; init; }
    public DateOnly? From { get; init; }
    public DateOnly? To { get; init; }
    public string? Text { get; init; }
    public string? Cursor { get; init; }
}

/// <summary>One page of runs, newest first, and the cursor of the next (null on the last).</summary>
public sealed record RunPage(IReadOnlyList<RunRecord> Runs, string? NextCursor);

/// <summary>A batch, the run it belongs to (null outside any run) and its jobs.</summary>
public sealed record BatchView(BatchInfo Batch, RunRecord? Run, IReadOnlyList<JobInfo> Jobs);

/// <summary>A job, its batch's view and every attempt it has had.</summary>
public sealed record JobView(BatchView Batch, JobInfo Job, IReadOnlyList<JobAttempt> Attempts);

/// <summary>
/// Every read the pages and the read endpoints make, each checked against the caller first: a batch
/// of a run is read by the members of the run's dataset namespace (DatasetReadAccess), a batch outside
/// any run only by its author. Reads go through Core's stores; nothing here knows their SQL.
/// </summary>
public sealed class RunnerReader(RunnerHomeAccess home)
{
    public const int PageSize = 50;

    public async Task<RunPage> QueryRunsAsync(string caller, string dataset, string ns, RunFilter filter, int pageSize = PageSize,
        CancellationToken cancellationToken = default)
    {
        var deployment = home.Deployment;
        DatasetReadAccess.Check(deployment.LoadRegistry(), caller, dataset, ns);
        var query = new LogQuery
        {
            Dataset = dataset,
            User = string.IsNullOrWhiteSpace(filter.User) ? null : filter.User.Trim(),
            AccessLevel = ns == "test" ? AccessLevel.Test : null,
            After = filter.From is { } from ? new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            Before = filter.To is { } to ? new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            First = pageSize,
        };
        var text = string.IsNullOrWhiteSpace(filter.Text) ? null : filter.Text.Trim();
        // Keyset paging is the audit log's one rule (AuditLogPaging); the namespace and the text are filters on top.
        var page = await AuditLogPaging.PageAsync(deployment.RunLog, query, filter.Cursor,
            run => run.AccessLevel.Namespace() == ns && (text is null || Matches(run, text)), cancellationToken);
        return new RunPage(page.Runs, page.NextCursor);
    }

    /// <summary>The run with this ar_guid, if the caller may read it (403 otherwise, 404 when there is none).</summary>
    public async Task<RunRecord> GetRunAsync(string caller, string arGuid, CancellationToken cancellationToken = default)
    {
        var deployment = home.Deployment;
        var run = await deployment.RunLog.FindAsync(arGuid, cancellationToken)
            ?? throw new AnalysisRunnerException("RunNotFound", ErrorKind.ObjectNotFound, arGuid,
                $"No run has ar_guid '{arGuid}'; the dataset's audit-log page lists its runs.");
        DatasetReadAccess.Check(deployment.LoadRegistry(), caller, run.Dataset, run.AccessLevel.Namespace());
        return run;
    }

    /// <summary>The batches of a run (its driver batch first), for a caller who may read the run.</summary>
    public async Task<IReadOnlyList<BatchInfo>> RunBatchesAsync(RunRecord run, CancellationToken cancellationToken = default) =>
        (await home.Deployment.Batches.FindBatchesAsync(new BatchQuery { ArGuid = run.ArGuid }, cancellationToken)).OrderBy(batch => batch.Id).ToList();

    public async Task<BatchView> GetBatchAsync(string caller, long batchId, CancellationToken cancellationToken = default)
    {
        var deployment = home.Deployment;
        var batch = await deployment.Batches.RequireBatchAsync(batchId, cancellationToken);
        RunRecord? run = null;
        if (batch.ArGuid is { } arGuid)
        {
            run = await GetRunAsync(caller, arGuid, cancellationToken);
        }
        else if (!IsAuthor(batch, caller))
        {
            throw new PolicyViolationException("NotTheBatchAuthor", ErrorKind.PermissionDenied, batchId,
                $"Batch {batchId} belongs to no run, so only the user who submitted it may read it, and that is not '{caller}'.");
        }
        return new BatchView(batch, run, await deployment.Batches.GetJobsAsync(batchId, cancellationToken));
    }

    /// <summary>
    /// The batches of a listing the caller may read, by <see cref="GetBatchAsync"/>'s rule, in their order:
    /// one registry read and one run lookup per run, not per batch (a run's sub-batches come in crowds).
    /// </summary>
    public async IAsyncEnumerable<BatchInfo> ReadableAsync(string caller, IEnumerable<BatchInfo> batches,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var deployment = home.Deployment;
        var registry = deployment.LoadRegistry();
        var runs = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var batch in batches)
        {
            bool readable;
            if (batch.ArGuid is not { } arGuid) readable = IsAuthor(batch, caller);
            else if (!runs.TryGetValue(arGuid, out readable))
            {
                var run = await deployment.RunLog.FindAsync(arGuid, cancellationToken);
                runs[arGuid] = readable = run is not null && DatasetReadAccess.MayRead(registry, caller, run.Dataset, run.AccessLevel.Namespace());
            }
            if (readable) yield return batch;
        }
    }

    private static bool IsAuthor(BatchInfo batch, string caller) =>
        batch.Attributes.TryGetValue("author", out var author) && Core.Hosting.Identity.Same(author, caller);

    public async Task<JobView> GetJobAsync(string caller, long batchId, int jobId, CancellationToken cancellationToken = default)
    {
        var batch = await GetBatchAsync(caller, batchId, cancellationToken);
        var job = batch.Jobs.FirstOrDefault(job => job.JobId == jobId)
            ?? throw new AnalysisRunnerException("JobNotFound", ErrorKind.ObjectNotFound, $"{batchId}/{jobId}", $"Batch {batchId} has no job {jobId}.");
        return new JobView(batch, job, await home.Deployment.Runner.Logs.GetAttemptsAsync(batchId, jobId, cancellationToken));
    }

    /// <summary>What jobs wrote, through the runner that ran them; only for a job GetJobAsync has let the caller read.</summary>
    public Core.Batch.Runners.IJobLogReader Logs => home.Deployment.Runner.Logs;

    /// <summary>A run's config as the job sees it (the merged TOML), for a caller who may read the run.</summary>
    public async Task<string> ReadConfigTextAsync(RunRecord run, CancellationToken cancellationToken)
    {
        var table = await home.Deployment.ReadConfigAsync(run.ConfigPath);
        cancellationToken.ThrowIfCancellationRequested();
        return Core.Config.TomlFiles.Serialize(table);
    }

    private static bool Matches(RunRecord run, string text) =>
        new[] { run.Description, run.Script, run.Repository, run.Commit, run.User, run.ArGuid, string.Join(' ', run.ScriptArguments) }
            .Any(field => field?.Contains(text, StringComparison.OrdinalIgnoreCase) == true);
}

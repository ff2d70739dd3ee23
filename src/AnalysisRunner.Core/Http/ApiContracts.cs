namespace AnalysisRunner.Core.Http;

/// <summary>The server's routes, shared with the client so neither spells one differently.</summary>
public static class ApiRoutes
{
    public const string Health = "/healthz";
    public const string OpenApi = "/openapi/v1.json";
    public const string WhoAmI = "/api/v1/whoami";

    /// <summary>The caller's own tokens: list (GET), issue one for yourself (POST), revoke one (DELETE …/{id}).</summary>
    public const string Tokens = "/api/v1/tokens";

    /// <summary>Admin only: any user's tokens (POST issues for the user the body names; GET ?user=; DELETE …/{id}; DELETE ?user= revokes a user's).</summary>
    public const string AdminTokens = "/api/v1/admin/tokens";
}

/// <summary>Request headers of ours, shared by server and client.</summary>
public static class ApiHeaders
{
    /// <summary>
    /// On POST /api/v1/runs and …/rerun: the client's key for this one submission (16–128 of
    /// A–Z a–z 0–9 - _ . : ~). The same user sending it again gets the run it made, not a second one.
    /// </summary>
    public const string IdempotencyKey = "Idempotency-Key";
}

/// <summary>Who the server takes the caller to be: from the bearer token only.</summary>
public sealed record CallerInfo
{
    public required string User { get; init; }
    public required string TokenId { get; init; }
    public bool Admin { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>GET /healthz: 200 with this when the server and its database work; 503 with a problem detail when not.</summary>
public sealed record HealthReport
{
    public required string Status { get; init; }
    public required string Database { get; init; }
}

/// <summary>
/// POST /api/v1/tokens: a token for the caller. There is no user here on purpose: the server issues
/// it to whoever the bearer token says the caller is (a "user" member in the body is ignored).
/// </summary>
public sealed record OwnTokenRequest
{
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? Description { get; init; }
}

/// <summary>POST /api/v1/admin/tokens (admin role only): a token for the user named here.</summary>
public sealed record AdminTokenRequest
{
    public string? User { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public bool Admin { get; init; }
    public string? Description { get; init; }
}

/// <summary>The routes of runs, batches and jobs (issue 15, phase 2); each is checked against the caller's memberships.</summary>
public static class RunRoutes
{
    /// <summary>POST: submit a run from facts (201 with the run). GET: the audit log (?dataset=&amp;user=&amp;accessLevel=&amp;after=&amp;before=&amp;arGuid=&amp;first=&amp;cursor=).</summary>
    public const string Runs = "/api/v1/runs";

    /// <summary>POST facts: the plan, nothing written.</summary>
    public const string PlanRun = "/api/v1/runs/plan";

    public static string Rerun(string arGuid) => $"/api/v1/runs/{Uri.EscapeDataString(arGuid)}/rerun";
    public static string PlanRerun(string arGuid) => $"/api/v1/runs/{Uri.EscapeDataString(arGuid)}/rerun/plan";
    public static string CancelRun(string arGuid) => $"/api/v1/runs/{Uri.EscapeDataString(arGuid)}/cancel";
    public static string Config(string arGuid) => $"/api/v1/runs/{Uri.EscapeDataString(arGuid)}/config";

    /// <summary>
    /// GET ?since=yyyy-MM-dd&amp;by=Day|User|Batch: what a dataset's runs used since a day (Get-AnalysisUsage,
    /// the usage page), counting the namespaces (test, main) the caller may read.
    /// </summary>
    public const string UsageTemplate = "/api/v1/datasets/{dataset}/usage";
    public static string Usage(string dataset) => $"/api/v1/datasets/{Uri.EscapeDataString(dataset)}/usage";

    /// <summary>GET ?arGuid=&amp;state=&amp;first=: batches the caller may read.</summary>
    public const string Batches = "/api/v1/batches";

    /// <summary>POST a <see cref="WatchRequest"/>: server-sent events, one BatchProgress per "progress" event, then "end".</summary>
    public const string Watch = "/api/v1/batches/watch";

    /// <summary>GET: the batch, its run and its jobs; DELETE: remove a finished batch.</summary>
    public static string Batch(long batchId) => $"/api/v1/batches/{batchId}";
    public static string CancelBatch(long batchId) => $"/api/v1/batches/{batchId}/cancel";
    public static string ResumeBatch(long batchId) => $"/api/v1/batches/{batchId}/resume";
    public static string Attempts(long batchId, int jobId) => $"/api/v1/batches/{batchId}/jobs/{jobId}/attempts";

    /// <summary>GET ?follow=true|false: server-sent events, one JSON string per "line" event, then "end".</summary>
    public static string Log(long batchId, int jobId, int attempt, string stream) =>
        $"/api/v1/batches/{batchId}/jobs/{jobId}/attempts/{attempt}/{stream}";
}

/// <summary>What to wait for: batches by id, or a run (its driver batch and every batch it submits).</summary>
public sealed record WatchRequest
{
    public IReadOnlyList<long> BatchIds { get; init; } = [];
    public string? ArGuid { get; init; }
    public long? DriverBatchId { get; init; }

    /// <summary>Send progress as jobs move (else only the end).</summary>
    public bool Progress { get; init; }
    public double? TimeoutSeconds { get; init; }
}

/// <summary>One event of a wait: the batches as they are now and the time waited so far.</summary>
public sealed record WatchEvent(IReadOnlyList<Batch.BatchInfo> Batches, double ElapsedSeconds);

/// <summary>A batch, the run it belongs to (null outside any run) and its jobs.</summary>
public sealed record BatchDetail(Batch.BatchInfo Batch, Runs.RunRecord? Run, IReadOnlyList<Batch.JobInfo> Jobs);

/// <summary>A run's config as the job sees it, and which file set each key.</summary>
public sealed record ConfigDetail(string ArGuid, string Toml, IReadOnlyList<KeyValuePair<string, string>> Provenance);

/// <summary>The ids of the batches a run-wide cancel asked to stop.</summary>
public sealed record CancelledBatches(IReadOnlyList<long> BatchIds)
{
    /// <summary>
    /// The run's driver batch was still to be created (the server logged the run, its dispatch is
    /// pending or failing): it now never will be. BatchIds is then empty, unless a dispatch racing
    /// the cancel had made it (it is cancelled too).
    /// </summary>
    public bool DriverBatchWithheld { get; init; }
}

/// <summary>
/// A plan as the server sends it: the run it would log, every check (a refused one with its problem),
/// the first refusal as a problem, the merged config and the driver's command. A plan is never sent
/// back: a client submits facts, and the server plans again.
/// </summary>
public sealed record RunPlanDocument
{
    public required Runs.RunRecord Run { get; init; }
    public IReadOnlyList<PlanCheck> Checks { get; init; } = [];
    public ProblemDocument? Refusal { get; init; }
    public required string ConfigToml { get; init; }
    public required string DriverCommand { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
    public bool CommitMissingFromOrigin { get; init; }

    public static RunPlanDocument From(Runs.RunPlan plan) => new()
    {
        Run = plan.Run,
        Checks = plan.Checks.Select(check => new PlanCheck(check.Rule, check.Passed, check.Detail,
            check.Error is null ? null : ProblemDocument.From(check.Error))).ToList(),
        Refusal = plan.Refusal is null ? null : ProblemDocument.From(plan.Refusal),
        ConfigToml = plan.ConfigToml,
        DriverCommand = plan.DriverCommand,
        Warnings = plan.Warnings,
        CommitMissingFromOrigin = plan.CommitMissingFromOrigin,
    };

    /// <summary>The plan as a client holds it: enough to show and to submit again (its facts), never to write.</summary>
    public Runs.RunPlan ToPlan(Runs.SubmissionFacts facts, int status) => new()
    {
        Facts = facts,
        Run = Run,
        Checks = Checks.Select(check => new Policy.PolicyCheck(check.Rule, check.Passed, check.Detail)
        {
            Error = check.Problem?.ToException(status),
        }).ToList(),
        Refusal = Refusal?.ToException(Refusal.Status),
        ConfigToml = ConfigToml,
        DriverBatch = new Batch.BatchSpec
        {
            Name = $"{Run.Dataset}/{Run.AccessLevel.ToConfigName()}: {Run.Description}",
            ArGuid = Run.ArGuid,
            ConfigPath = Run.ConfigPath,
            TmpRoot = "",
            Jobs = [new Batch.JobSpec { Index = 0, Name = Runs.RunAuthority.DriverJobName, Commands = [DriverCommand] }],
        },
        Warnings = Warnings,
        CommitMissingFromOrigin = CommitMissingFromOrigin,
    };
}

public sealed record PlanCheck(string Rule, bool Passed, string Detail, ProblemDocument? Problem);

/// <summary>
/// Reading buckets within the caller's scope (the same rule as the storage cmdlets: StorageAccess for
/// the token's user, outside any run). Listing and reading only: writes and deletes stay in jobs.
/// </summary>
public static class StorageRoutes
{
    /// <summary>GET ?path=gs://…&amp;delimiter=/&amp;dataset=&amp;accessLevel=&amp;after=&amp;first=: an object itself, or what is under a prefix (a <see cref="StoragePage"/>).</summary>
    public const string Items = "/api/v1/storage/items";

    /// <summary>GET ?path=gs://…&amp;dataset=&amp;accessLevel=: the object's bytes (application/octet-stream).</summary>
    public const string Content = "/api/v1/storage/content";

    /// <summary>The most entries one page holds, and what a page holds when the client does not say.</summary>
    public const int MaxPageSize = 1000;
}

/// <summary>One line of a listing as the API sends it: its gs:// path and what the store knows.</summary>
public sealed record StorageEntryDocument(string Path, bool IsPrefix, long? Size, DateTimeOffset? Updated, string? ContentType)
{
    public static StorageEntryDocument From(Storage.StorageEntry entry) =>
        new(entry.Path, entry.IsPrefix, entry.Size, entry.Updated, entry.ContentType);

    /// <summary>Back to the entry the in-process cmdlet writes; the path is parsed (and so checked) again.</summary>
    public Storage.StorageEntry ToEntry() => new(Storage.StorageUri.Parse(Path), IsPrefix, Size, Updated, ContentType);
}

/// <summary>A page of a listing, in path order; <see cref="NextCursor"/> (the last path given) asks for the next page as ?after=.</summary>
public sealed record StoragePage(IReadOnlyList<StorageEntryDocument> Items, string? NextCursor);

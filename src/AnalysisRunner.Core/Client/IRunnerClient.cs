using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// SKETCH (phase 1 of the server issue): the one interface the cmdlets will talk to, with two
/// transports picked once by <see cref="RunnerTarget.Choose"/>: in-process over the runner home
/// (embedded default) and HTTP to AnalysisRunner.Server (built on <see cref="RunnerHttpClient"/>).
/// No cmdlet uses it yet and nothing implements it; phase 2 adds both implementations once the
/// submission split (client facts vs authority), the async stores and the Core-side waiting land.
///
/// The rules it follows:
/// - Requests carry facts, never identity: the in-process transport derives the caller from the OS
///   account, the HTTP one from the bearer token on the server. No method takes a user.
/// - Errors are <see cref="AnalysisRunnerException"/>s with the same ErrorIds on both transports
///   (the HTTP one rebuilds them from problem details, <see cref="ProblemDocument.ToException"/>).
/// - Anything that waits or follows is an IAsyncEnumerable, so cmdlets, the server's API and its
///   pages share one implementation of waiting.
///
/// Planned members (phase 2), named after today's cmdlets:
/// <code>
/// Task&lt;RunRecord&gt; SubmitRunAsync(RunFacts facts, CancellationToken ct);            // Submit-Analysis
/// Task&lt;RunPlan&gt; PlanRunAsync(RunFacts facts, CancellationToken ct);                 // Submit-Analysis -WhatIf
/// IAsyncEnumerable&lt;RunRecord&gt; QueryAuditLogAsync(LogQuery query, CancellationToken ct); // Get-AnalysisLog (keyset paged)
/// Task&lt;BatchInfo&gt; SubmitBatchAsync(BatchSpec spec, CancellationToken ct);             // Submit-Batch
/// Task&lt;BatchInfo?&gt; GetBatchAsync(long id, CancellationToken ct);                      // Get-Batch
/// IAsyncEnumerable&lt;JobInfo&gt; GetJobsAsync(long batchId, CancellationToken ct);         // Get-BatchJob
/// IAsyncEnumerable&lt;BatchEvent&gt; WaitAsync(IReadOnlyList&lt;long&gt; batchIds, CancellationToken ct); // Wait-Batch
/// IAsyncEnumerable&lt;LogChunk&gt; FollowLogAsync(long batchId, int jobId, CancellationToken ct); // Get-BatchJobLog -Follow
/// Task CancelBatchAsync / ResumeBatchAsync / RemoveBatchAsync(long id, CancellationToken ct);
/// Task&lt;string&gt; ReadConfigAsync(string arGuid, CancellationToken ct);                   // Get-CpgConfig
/// IAsyncEnumerable&lt;StorageEntry&gt; ListStorageAsync(StorageUri prefix, …);              // Get-StorageItem, within scope
/// </code>
/// </summary>
internal interface IRunnerClient : IAsyncDisposable
{
    /// <summary>For messages: "runner home /x" or "server https://…".</summary>
    string Description { get; }

    /// <summary>Who this transport takes the caller to be (the OS account's email, or the token's user).</summary>
    Task<CallerInfo> WhoAmIAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether the backend works: its database reachable.</summary>
    Task<HealthReport> GetHealthAsync(CancellationToken cancellationToken = default);
}

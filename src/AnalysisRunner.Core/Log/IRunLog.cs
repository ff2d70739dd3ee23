using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>What one accepted submission writes, all or nothing: the audit entry, its config text and its driver batch.</summary>
public sealed record RunSubmission(RunRecord Run, string ConfigToml, BatchSpec DriverBatch)
{
    /// <summary>The client's idempotency key, kept with the run (scoped to its user) in the append's own transaction; null when the client sent none.</summary>
    public SubmissionKey? Key { get; init; }
}

/// <summary>
/// The store of record for runs: the hash-chained audit log, each run's config and its driver batch.
/// A submission is one call that the backend makes atomic; nothing here hands out a connection or a
/// transaction. Implementations: <see cref="SqliteRunLog"/> (the embedded home, driver batch in the same
/// transaction) and <see cref="PostgresRunLog"/> (the server: the batch goes through an outbox, see there).
/// One contract suite (tests/…/Log/RunLogContract) holds both to the same behaviour.
/// </summary>
public interface IRunLog
{
    /// <summary>
    /// Appends the run chained to the newest entry (AuditChain), with its config and driver batch, or
    /// writes nothing and throws (DuplicateRun for an ar_guid already logged). Returns the run as
    /// stored, hashes and driver batch id included. With a <see cref="RunSubmission.Key"/> the run's
    /// user already logged a run under, nothing is written: the answer is that run
    /// (<see cref="SubmissionKey.Replay"/>: IdempotencyKeyReused if the key came with another request).
    /// </summary>
    Task<RunRecord> AppendAsync(RunSubmission submission, CancellationToken cancellationToken = default);

    /// <summary>Matching runs newest first, streamed (never the whole log at once).</summary>
    IAsyncEnumerable<RunRecord> QueryAsync(LogQuery query, CancellationToken cancellationToken = default);

    /// <summary>Every entry oldest first, as it was hashed, for AuditChain.Verify.</summary>
    IAsyncEnumerable<RunRecord> ReadChainAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates the driver batch of every logged run that has none yet, idempotently (never two for one
    /// run); returns how many it created. A backend that writes the batch with the entry has none pending.
    /// </summary>
    Task<int> DispatchPendingAsync(CancellationToken cancellationToken = default);

    /// <summary>The run <paramref name="user"/> logged under idempotency key <paramref name="key"/>, or null (keys are scoped per user).</summary>
    Task<KeyedRun?> FindByKeyAsync(string user, string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancelling a run whose driver batch is still to be created: marks it so no dispatch ever creates
    /// it (one racing with this cancels the batch it made at once). True if the batch was still pending;
    /// false if the run has its batch (cancel that as any batch) or is not in this store.
    /// </summary>
    Task<bool> CancelPendingDispatchAsync(string arGuid, CancellationToken cancellationToken = default);

    /// <summary>True when the run was cancelled before its driver batch was created, so it has none and never will.</summary>
    Task<bool> IsDriverBatchWithheldAsync(string arGuid, CancellationToken cancellationToken = default);
}

public static class RunLogExtensions
{
    /// <summary>The run with this ar_guid, or null.</summary>
    public static async Task<RunRecord?> FindAsync(this IRunLog log, string arGuid, CancellationToken cancellationToken = default)
    {
        await foreach (var run in log.QueryAsync(new LogQuery { ArGuid = arGuid, First = 1 }, cancellationToken).ConfigureAwait(false))
            return run;
        return null;
    }
}

using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// Where a run store that logs runs apart from the executor (PostgresRunLog) hands each logged run's
/// driver batch. Idempotent by ar_guid: asked twice for one run (a dispatch cut short and retried, two
/// dispatchers at once), it creates one batch and answers its id both times.
/// </summary>
public interface IDriverBatchTarget
{
    /// <summary>Creates the run's driver batch (and whatever the executor needs to run it) unless it exists; returns its id.</summary>
    Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default);

    /// <summary>Cancels every batch of the run (a driver batch made for a run cancelled meanwhile); none is not an error.</summary>
    Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default);

    /// <summary>The key of the home that runs these runs' batches, which seals what the run log writes for them (see RunEntrySeal).</summary>
    RunEntrySeal Seal { get; }

    /// <summary>
    /// When this target keeps its batches in <paramref name="database"/>: how the run log writes the
    /// driver batch in the run's own transaction, so there is nothing to dispatch. Null (the default):
    /// the batch is made after the commit, by <see cref="EnsureDriverBatchAsync"/>.
    /// </summary>
    TransactionalDriverBatches? InDatabase(Postgres.PostgresDatabase database) => null;
}

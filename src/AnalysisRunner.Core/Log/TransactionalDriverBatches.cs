using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Config;
using Npgsql;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// A run's driver batch written inside the run log's PostgreSQL transaction, for a home whose batches
/// are in the database the server logs runs in: the config is published first (write-once, outside the
/// transaction: on GCS it is a network call), so the batch never exists before what it reads; the batch
/// lands with the audit row or not at all; a config whose run was not logged is withdrawn.
/// </summary>
public sealed class TransactionalDriverBatches(ConfigStore configs, PostgresBatchStore batches)
{
    public async Task PublishConfigAsync(string arGuid, string configToml, CancellationToken cancellationToken)
    {
        batches.EnsureSchema();
        await configs.PublishAsync(arGuid, configToml, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores the driver batch in the caller's transaction and returns its id.</summary>
    public Task<long> InsertAsync(BatchSpec driverBatch, NpgsqlConnection connection, NpgsqlTransaction transaction,
        CancellationToken cancellationToken) =>
        batches.InsertAsync(driverBatch, connection, transaction, cancellationToken);

    /// <summary>After a run was refused or replayed: its config was published for nothing. A failure here leaves a config no run points to, nothing worse.</summary>
    public async Task WithdrawConfigAsync(string arGuid)
    {
        try
        {
            await configs.WithdrawAsync(arGuid, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The run's own error is what the caller must hear.
        }
    }
}

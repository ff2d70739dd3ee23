using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// Hands logged runs to the runner home's executor: the config into the home's config store (where
/// the run's ConfigPath points), then one SQLite transaction that creates the driver batch and copies
/// the audit entry into the home's audit table (the executor derives a batch's scope from it, see
/// BatchScope). That copy is also what makes this idempotent: a run whose batch exists is answered
/// with that batch, and its unique ar_guid refuses a second copy, so two dispatchers racing cannot
/// both create one. A home whose batches are in PostgreSQL ([batches] database) gets the entry copied
/// first and then the batch from PostgresBatchStore.SubmitDriverBatch, which makes a run's first batch
/// once under an advisory lock on its ar_guid.
/// </summary>
public sealed class HomeDriverBatches(Deployment deployment) : IDriverBatchTarget
{
    public async Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(driverBatch);
        if (driverBatch.ArGuid != run.ArGuid)
            throw new ArgumentException($"The driver batch is of run {driverBatch.ArGuid}, not {run.ArGuid}.", nameof(driverBatch));
        try
        {
            await deployment.Configs.PublishAsync(run.ArGuid, configToml, cancellationToken).ConfigureAwait(false);
        }
        catch (ConfigException written) when (written.ErrorId == "ConfigAlreadyExists")
        {
            // An earlier dispatch of this run got this far; configs are written once.
        }
        // Waking the executor is the caller's (RunAuthority after a submission, the server after its start-up dispatch).
        if (deployment.Batches is PostgresBatchStore postgres)
        {
            // The entry first, so the executor never meets the batch before the entry it scopes it by.
            deployment.Database.InTransaction((connection, transaction) =>
            {
                if (!IsCopied(run.ArGuid, connection, transaction)) deployment.HomeAuditLog.Replicate(run, connection, transaction);
                return true;
            });
            return postgres.SubmitDriverBatch(driverBatch);
        }
        var homeBatches = (SqliteBatchStore)deployment.Batches;
        return deployment.Database.InTransaction((connection, transaction) =>
        {
            if (DriverBatchOf(run.ArGuid, connection, transaction) is { } existing) return existing;
            var created = homeBatches.Submit(driverBatch, connection, transaction);
            deployment.HomeAuditLog.Replicate(run, connection, transaction);
            return created;
        });
    }

    private static bool IsCopied(string arGuid, SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM audit_log WHERE ar_guid = $ar_guid";
        command.Parameters.AddWithValue("$ar_guid", arGuid);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    public Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        var batches = deployment.Batches.FindBatches(new BatchQuery { ArGuid = arGuid });
        if (batches.Count > 0)
        {
            deployment.Batches.RequestCancelRun(arGuid);
            deployment.Executor.Wake();
        }
        return Task.CompletedTask;
    }

    /// <summary>The first batch of a run is its driver's: the others are submitted by that driver once it runs.</summary>
    private static long? DriverBatchOf(string arGuid, SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT min(id) FROM batches WHERE ar_guid = $ar_guid";
        command.Parameters.AddWithValue("$ar_guid", arGuid);
        return command.ExecuteScalar() is long id ? id : null;
    }
}

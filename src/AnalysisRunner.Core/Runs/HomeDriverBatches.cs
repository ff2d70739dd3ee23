using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// Hands logged runs to the runner home's executor. A home whose batches are in the database the run
/// was logged in ([batches] database, the server's own) takes the driver batch in the run's own
/// transaction (<see cref="InDatabase"/>): the executor reads the run's entry from that database
/// (PostgresLoggedRuns), so nothing is copied and nothing is left to dispatch.
/// <para>
/// Otherwise, after the run's commit: the config into the home's config store (where the run's
/// ConfigPath points), then for batches in runner.db one SQLite transaction that creates the driver
/// batch and copies the audit entry into the home's audit table (the executor derives a batch's scope
/// from it, see BatchScope). That copy is also what makes this idempotent: a run whose batch exists is
/// answered with that batch, and its unique ar_guid refuses a second copy, so two dispatchers racing
/// cannot both create one. Batches in PostgreSQL come from PostgresBatchStore.SubmitDriverBatch, which
/// makes a run's first batch once under an advisory lock on its ar_guid.
/// </para>
/// </summary>
public sealed class HomeDriverBatches(Deployment deployment) : IDriverBatchTarget
{
    public RunEntrySeal Seal { get; } = new(deployment.Home);

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
        // The executor finds the run in the batches' own database (PostgresLoggedRuns), not in a copy.
        if (deployment.Batches is PostgresBatchStore postgres)
            return await postgres.SubmitDriverBatchAsync(driverBatch, cancellationToken).ConfigureAwait(false);
        var homeBatches = (SqliteBatchStore)deployment.Batches;
        return await deployment.Database.InTransactionAsync((connection, transaction) =>
        {
            if (DriverBatchOf(run.ArGuid, connection, transaction) is { } existing) return existing;
            var created = homeBatches.Submit(driverBatch, connection, transaction);
            deployment.HomeAuditLog.Replicate(run, connection, transaction);
            return created;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Batches in runner.db: null, they are dispatched after the commit. Batches in PostgreSQL must be in
    /// the database the runs are logged in, where the executor looks their runs up: a home pointed at
    /// another one is refused at every submission (BatchDatabaseMismatch) rather than logging runs whose
    /// batches the executor would refuse.
    /// </summary>
    public TransactionalDriverBatches? InDatabase(Postgres.PostgresDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (deployment.Batches is not PostgresBatchStore postgres) return null;
        if (!postgres.Database.IsSameDatabaseAs(database))
            throw new AnalysisRunnerException("BatchDatabaseMismatch", ErrorKind.ResourceUnavailable, postgres.Database.Description,
                $"The runner home keeps its batches in {postgres.Database.Description} ([batches] database in {deployment.Home.SettingsPath}), " +
                $"but this server logs runs in {database.Description}; they must be one database, so a run and its driver batch are one transaction.");
        return new TransactionalDriverBatches(deployment.Configs, postgres);
    }

    public async Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        var batches = await deployment.Batches.FindBatchesAsync(new BatchQuery { ArGuid = arGuid }, cancellationToken).ConfigureAwait(false);
        if (batches.Count > 0)
        {
            await deployment.Batches.RequestCancelRunAsync(arGuid, cancellationToken).ConfigureAwait(false);
            deployment.Executor.Wake();
        }
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

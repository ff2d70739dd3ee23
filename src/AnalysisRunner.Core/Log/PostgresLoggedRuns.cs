using Npgsql;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// The executor's authority on a home whose batches are in PostgreSQL: a run's entry is read from that
/// database's audit_log, where the server logged it in the same transaction as its driver batch
/// (PostgresRunLog), so a batch row and the entry that scopes it come from one store. Runs this home
/// logged itself without a server (SqliteRunLog: audit row in runner.db, batch in PostgreSQL) are
/// found in runner.db, but only its own entries: a copy there of a server entry is authority for
/// nothing, since the entry it copies is in this database or nowhere. An entry counts only with the
/// runner's seal (RunEntrySeal): reaching the database is not enough to log a run.
/// </summary>
internal sealed class PostgresLoggedRuns(Batch.PostgresBatchStore batches, SqliteAuditLog home) : ILoggedRuns
{
    private readonly RunEntrySeal _seal = new(batches.Home);

    public Runs.RunRecord? Find(string arGuid)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        batches.EnsureSchema();
        // Synchronous I/O: the executor's loop and the run channel ask from threads of their own.
        return batches.Database.Run(connection =>
        {
            // As sealed (DriverBatchId 0, see PostgresRunLog), so the caller's AuditChain.CheckEntry holds.
            using var command = new NpgsqlCommand("SELECT entry, prev_hash, entry_hash, seal FROM audit_log WHERE ar_guid = $1", connection);
            command.Parameters.AddWithValue(arGuid);
            using var reader = command.ExecuteReader();
            if (!reader.Read()) return null;
            var run = PostgresRunLog.ReadEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), 0);
            // The chain's hashes are not keyed: an entry rewritten in the database with its hash recomputed is refused here.
            _seal.CheckEntry(run, reader.IsDBNull(3) ? null : reader.GetString(3));
            return run;
        }) ?? home.FindOwn(arGuid);
    }
}

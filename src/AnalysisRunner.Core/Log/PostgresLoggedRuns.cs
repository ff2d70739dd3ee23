using Npgsql;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// The executor's authority on a home whose batches are in PostgreSQL: a run's entry is read from that
/// database's audit_log, where the server logged it in the same transaction as its driver batch
/// (PostgresRunLog), so a batch row and the entry that scopes it come from one store. Runs this home
/// logged itself without a server (SqliteRunLog: audit row in runner.db, batch in PostgreSQL) are
/// found in runner.db, but only its own entries: a copy there of a server entry is authority for
/// nothing, since the entry it copies is in this database or nowhere.
/// </summary>
internal sealed class PostgresLoggedRuns(Batch.PostgresBatchStore batches, SqliteAuditLog home) : ILoggedRuns
{
    public Runs.RunRecord? Find(string arGuid)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        batches.EnsureSchema();
        // Synchronous I/O: the executor's loop and the run channel ask from threads of their own.
        return batches.Database.Run(connection =>
        {
            // As sealed (DriverBatchId 0, see PostgresRunLog), so the caller's AuditChain.CheckEntry holds.
            using var command = new NpgsqlCommand("SELECT entry, prev_hash, entry_hash FROM audit_log WHERE ar_guid = $1", connection);
            command.Parameters.AddWithValue(arGuid);
            using var reader = command.ExecuteReader();
            return reader.Read() ? PostgresRunLog.ReadEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), 0) : null;
        }) ?? home.FindOwn(arGuid);
    }
}

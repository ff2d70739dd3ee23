using System.Globalization;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The executor's own record, in the home's runner.db, of the PostgreSQL batches it finished. A batch's
/// state in PostgreSQL is not sealed (it changes), so whoever reaches the database could set a finished
/// batch back to Running, or insert a removed one again from rows it read, seals and all, and the
/// executor would run its sealed specs again with its run's scope: a replay. runner.db is the home
/// owner's alone, so a batch recorded here is never loaded to run again, whatever PostgreSQL says.
/// Recorded after PostgreSQL's commit (before it, a failed commit would leave a running batch that no
/// executor loads); a crash in between leaves that one batch unrecorded, as before this record.
/// </summary>
internal sealed class FinishedBatches(RunnerHome home)
{
    private const string Schema = "CREATE TABLE IF NOT EXISTS finished_batches (id INTEGER PRIMARY KEY);";

    private readonly RunnerDatabase _database = Ready(new RunnerDatabase(home));

    private static RunnerDatabase Ready(RunnerDatabase database)
    {
        database.EnsureSchema("finished_batches", Schema);
        return database;
    }

    public void Record(IEnumerable<long> batchIds)
    {
        var ids = batchIds.ToList();
        if (ids.Count == 0) return;
        _database.InTransaction((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT OR IGNORE INTO finished_batches (id) VALUES ($id)";
            var id = command.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
            foreach (var batchId in ids)
            {
                id.Value = batchId;
                command.ExecuteNonQuery();
            }
            return true;
        });
    }

    /// <summary>Which of <paramref name="batchIds"/> this home's executor finished.</summary>
    public HashSet<long> Among(IReadOnlyCollection<long> batchIds)
    {
        var found = new HashSet<long>();
        if (batchIds.Count == 0) return found;
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM finished_batches WHERE id IN (" +
                              string.Join(',', batchIds.Select(id => id.ToString(CultureInfo.InvariantCulture))) + ")";
        using var reader = command.ExecuteReader();
        while (reader.Read()) found.Add(reader.GetInt64(0));
        return found;
    }
}

using System.Globalization;
using AnalysisRunner.Core.Hosting;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The executor's own record, in the home's runner.db, of the PostgreSQL batches and jobs it finished.
/// States in PostgreSQL are not sealed (they change), so whoever reaches the database could set a
/// finished batch back to Running, insert a removed one again from rows it read (seals and all), set
/// a finished job of a running batch back to Ready (a replay: the executor would run those sealed
/// specs again with their run's scope), or write an end into a job the executor never finished (a
/// skip: its children would start without it). runner.db is the home owner's alone, so this record
/// decides: a batch recorded here is never loaded to run again, a job recorded here is loaded in the
/// state it ended in, and a job PostgreSQL shows ended that is not recorded here did not end
/// (PostgresJobLedger loads it Pending, and Recovery asks the runner what became of its attempts).
/// <para>
/// A job's end is recorded before PostgreSQL's commit, so no end PostgreSQL holds lacks its record
/// (a failed commit leaves a record PostgreSQL does not share, which the next load writes back), and
/// every record names the seal of the batch row it was made for (AddSealColumns). A
/// batch's end is recorded after the commit, and drops its jobs' records; a crash in between leaves
/// the batch ended in PostgreSQL, so not loaded, with its jobs' records kept. A job's end is final
/// (JobGraph never moves a finished job: a retry happens instead of an end, never after one), so a
/// record never has to be taken back.
/// </para>
/// </summary>
internal sealed class FinishedWork(RunnerHome home)
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS finished_batches (id INTEGER PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS finished_jobs (batch_id INTEGER NOT NULL, job_id INTEGER NOT NULL, state TEXT NOT NULL,
            PRIMARY KEY (batch_id, job_id)) WITHOUT ROWID;
        """;

    private readonly RunnerDatabase _database = Ready(new RunnerDatabase(home));

    private static RunnerDatabase Ready(RunnerDatabase database)
    {
        database.EnsureSchema("finished_work", Schema);
        database.EnsureSchema("finished_work_seals", AddSealColumns);
        return database;
    }

    /// <summary>
    /// Each record names the seal of the batch row it was made for: a batch id can be given again (a
    /// row deleted and the id sequence set back, a database restored), and a record of the old batch
    /// must not decide for the new one. Records from before these columns have none: a batch's still
    /// keeps it from loading again (replay matters more than a reused id), a job's no longer applies
    /// (the job runs again, never skipped).
    /// </summary>
    private static void AddSealColumns(SqliteConnection connection)
    {
        using var check = connection.CreateCommand();
        check.CommandText = "SELECT COUNT(*) FROM pragma_table_info('finished_jobs') WHERE name = 'batch_seal'";
        if ((long)check.ExecuteScalar()! > 0) return;
        using var add = connection.CreateCommand();
        add.CommandText = """
            ALTER TABLE finished_batches ADD COLUMN seal TEXT;
            ALTER TABLE finished_jobs ADD COLUMN batch_seal TEXT;
            ALTER TABLE finished_jobs ADD COLUMN exit_code INTEGER;
            ALTER TABLE finished_jobs ADD COLUMN reason TEXT;
            """;
        add.ExecuteNonQuery();
    }

    /// <summary>How a job ended, as the executor recorded it.</summary>
    public sealed record JobEnd(JobState State, int? ExitCode, string? Reason);

    /// <summary>
    /// The ends among a round's job transitions, before PostgreSQL commits them, each under the seal
    /// of its batch's row. Durable (an fsync per round that ends a job): PostgreSQL's commit is, and an
    /// end PostgreSQL kept without its record would be taken for forged and run again.
    /// </summary>
    public void RecordEnds(IReadOnlyList<JobTransition> jobs, IReadOnlyDictionary<long, string> batchSeals)
    {
        var ended = jobs.Where(job => job.State.IsFinished()).ToList();
        if (ended.Count == 0) return;
        _database.InTransaction((connection, transaction) =>
        {
            using var job = Command(connection, transaction, """
                INSERT OR REPLACE INTO finished_jobs (batch_id, job_id, state, batch_seal, exit_code, reason)
                VALUES ($batch, $job, $state, $seal, $exit, $reason)
                """);
            var batchId = job.Parameters.Add("$batch", SqliteType.Integer);
            var jobId = job.Parameters.Add("$job", SqliteType.Integer);
            var state = job.Parameters.Add("$state", SqliteType.Text);
            var seal = job.Parameters.Add("$seal", SqliteType.Text);
            var exit = job.Parameters.Add("$exit", SqliteType.Integer);
            var reason = job.Parameters.Add("$reason", SqliteType.Text);
            foreach (var end in ended)
            {
                (batchId.Value, jobId.Value, state.Value, seal.Value) = (end.BatchId, end.JobId, end.State.ToString(), batchSeals[end.BatchId]);
                (exit.Value, reason.Value) = (end.ExitCode ?? (object)DBNull.Value, end.Reason ?? (object)DBNull.Value);
                job.ExecuteNonQuery();
            }
            return true;
        }, durable: true);
    }

    /// <summary>The batches a round ended, once PostgreSQL has committed it: their record covers their jobs.</summary>
    public void RecordBatches(IReadOnlyList<(long BatchId, BatchState State)> batches, IReadOnlyDictionary<long, string> batchSeals)
    {
        var ended = batches.Where(batch => batch.State != BatchState.Running).Select(batch => batch.BatchId).ToList();
        if (ended.Count == 0) return;
        _database.InTransaction((connection, transaction) =>
        {
            using var batch = Command(connection, transaction,
                "INSERT OR REPLACE INTO finished_batches (id, seal) VALUES ($id, $seal); DELETE FROM finished_jobs WHERE batch_id = $id");
            var id = batch.Parameters.Add("$id", SqliteType.Integer);
            var seal = batch.Parameters.Add("$seal", SqliteType.Text);
            foreach (var batchId in ended)
            {
                (id.Value, seal.Value) = (batchId, batchSeals[batchId]);
                batch.ExecuteNonQuery();
            }
            return true;
        }, durable: false); // after PostgreSQL's commit, which already shows the batch ended: a lost record is no skip
    }

    /// <summary>Which of these batches (id → its row's seal) this home's executor finished: a record without a seal is older and counts for any.</summary>
    public HashSet<long> BatchesAmong(IReadOnlyDictionary<long, string> batchSeals)
    {
        var found = new HashSet<long>();
        Read("SELECT id, seal FROM finished_batches WHERE id IN ", batchSeals.Keys, row =>
        {
            if (row.IsDBNull(1) || row.GetString(1) == batchSeals[row.GetInt64(0)]) found.Add(row.GetInt64(0));
        });
        return found;
    }

    /// <summary>The jobs of these batches (id → its row's seal) this home's executor finished, and how each ended: only records made for that same row.</summary>
    public Dictionary<(long BatchId, int JobId), JobEnd> JobsOf(IReadOnlyDictionary<long, string> batchSeals)
    {
        var found = new Dictionary<(long, int), JobEnd>();
        Read("SELECT batch_id, job_id, state, batch_seal, exit_code, reason FROM finished_jobs WHERE batch_id IN ", batchSeals.Keys, row =>
        {
            if (row.IsDBNull(3) || row.GetString(3) != batchSeals[row.GetInt64(0)]) return;
            found[(row.GetInt64(0), row.GetInt32(1))] = new JobEnd(Enum.Parse<JobState>(row.GetString(2)),
                row.IsDBNull(4) ? null : row.GetInt32(4), row.IsDBNull(5) ? null : row.GetString(5));
        });
        return found;
    }

    private void Read(string selectWhereIdIn, IEnumerable<long> ids, Action<SqliteDataReader> row)
    {
        if (!ids.Any()) return;
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        // Inlined: they are numbers, and SQLite has no array parameter.
        command.CommandText = selectWhereIdIn + "(" + string.Join(',', ids.Select(id => id.ToString(CultureInfo.InvariantCulture))) + ")";
        using var reader = command.ExecuteReader();
        while (reader.Read()) row(reader);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}

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
/// (a failed commit leaves a record PostgreSQL does not share, which the next load writes back). A
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
        return database;
    }

    /// <summary>The ends among a round's job transitions, before PostgreSQL commits them.</summary>
    public void RecordEnds(IReadOnlyList<JobTransition> jobs)
    {
        var ended = jobs.Where(job => job.State.IsFinished()).ToList();
        if (ended.Count == 0) return;
        _database.InTransaction((connection, transaction) =>
        {
            using var job = Command(connection, transaction, "INSERT OR REPLACE INTO finished_jobs (batch_id, job_id, state) VALUES ($batch, $job, $state)");
            var batchId = job.Parameters.Add("$batch", SqliteType.Integer);
            var jobId = job.Parameters.Add("$job", SqliteType.Integer);
            var state = job.Parameters.Add("$state", SqliteType.Text);
            foreach (var end in ended)
            {
                (batchId.Value, jobId.Value, state.Value) = (end.BatchId, end.JobId, end.State.ToString());
                job.ExecuteNonQuery();
            }
            return true;
        }, durable: false); // as the executor's own transitions: a killed process keeps it; an OS crash may lose the last rounds
    }

    /// <summary>The batches a round ended, once PostgreSQL has committed it: their record covers their jobs.</summary>
    public void RecordBatches(IReadOnlyList<(long BatchId, BatchState State)> batches)
    {
        var ended = batches.Where(batch => batch.State != BatchState.Running).Select(batch => batch.BatchId).ToList();
        if (ended.Count == 0) return;
        _database.InTransaction((connection, transaction) =>
        {
            using var batch = Command(connection, transaction, "INSERT OR IGNORE INTO finished_batches (id) VALUES ($id); DELETE FROM finished_jobs WHERE batch_id = $id");
            var id = batch.Parameters.Add("$id", SqliteType.Integer);
            foreach (var batchId in ended)
            {
                id.Value = batchId;
                batch.ExecuteNonQuery();
            }
            return true;
        }, durable: false);
    }

    /// <summary>Which of <paramref name="batchIds"/> this home's executor finished.</summary>
    public HashSet<long> BatchesAmong(IReadOnlyCollection<long> batchIds)
    {
        var found = new HashSet<long>();
        Read("SELECT id FROM finished_batches WHERE id IN ", batchIds, row => found.Add(row.GetInt64(0)));
        return found;
    }

    /// <summary>The jobs of <paramref name="batchIds"/> this home's executor finished, and how each ended.</summary>
    public Dictionary<(long BatchId, int JobId), JobState> JobsOf(IReadOnlyCollection<long> batchIds)
    {
        var found = new Dictionary<(long, int), JobState>();
        Read("SELECT batch_id, job_id, state FROM finished_jobs WHERE batch_id IN ", batchIds,
            row => found[(row.GetInt64(0), row.GetInt32(1))] = Enum.Parse<JobState>(row.GetString(2)));
        return found;
    }

    private void Read(string selectWhereIdIn, IReadOnlyCollection<long> ids, Action<SqliteDataReader> row)
    {
        if (ids.Count == 0) return;
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

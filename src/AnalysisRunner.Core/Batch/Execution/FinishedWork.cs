using System.Globalization;
using AnalysisRunner.Core.Hosting;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The executor's own record, in the home's runner.db, of the PostgreSQL batches and jobs it finished.
/// States in PostgreSQL are not sealed (they change), so whoever reaches the database could set a
/// finished batch back to Running, insert a removed one again from rows it read (seals and all), or set
/// a finished job of a running batch back to Ready; the executor would then run those sealed specs
/// again with their run's scope: a replay. runner.db is the home owner's alone, so a batch recorded here
/// is never loaded to run again, and a job recorded here is loaded in the state it ended in, whatever
/// PostgreSQL says. A job's end is final (JobGraph never moves a finished job: a retry happens instead
/// of an end, never after one), so the record never has to be taken back; a batch's jobs are dropped
/// from it once the batch itself is recorded. Recorded after PostgreSQL's commit (before it, a failed
/// commit would leave a record PostgreSQL does not share); a crash in between leaves that round's ends
/// unrecorded, as before this record.
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

    /// <summary>The ends among a round's transitions, as PostgreSQL has just committed them.</summary>
    public void Record(IReadOnlyList<JobTransition> jobs, IReadOnlyList<(long BatchId, BatchState State)> batches)
    {
        var endedBatches = batches.Where(batch => batch.State != BatchState.Running).Select(batch => batch.BatchId).ToHashSet();
        // A job whose batch ends in the same round is covered by the batch's record.
        var endedJobs = jobs.Where(job => job.State.IsFinished() && !endedBatches.Contains(job.BatchId)).ToList();
        if (endedJobs.Count == 0 && endedBatches.Count == 0) return;
        _database.InTransaction((connection, transaction) =>
        {
            using (var job = Command(connection, transaction, "INSERT OR REPLACE INTO finished_jobs (batch_id, job_id, state) VALUES ($batch, $job, $state)"))
            {
                var batchId = job.Parameters.Add("$batch", SqliteType.Integer);
                var jobId = job.Parameters.Add("$job", SqliteType.Integer);
                var state = job.Parameters.Add("$state", SqliteType.Text);
                foreach (var ended in endedJobs)
                {
                    (batchId.Value, jobId.Value, state.Value) = (ended.BatchId, ended.JobId, ended.State.ToString());
                    job.ExecuteNonQuery();
                }
            }
            using var batch = Command(connection, transaction, "INSERT OR IGNORE INTO finished_batches (id) VALUES ($id); DELETE FROM finished_jobs WHERE batch_id = $id");
            var id = batch.Parameters.Add("$id", SqliteType.Integer);
            foreach (var batchId in endedBatches)
            {
                id.Value = batchId;
                batch.ExecuteNonQuery();
            }
            return true;
        }, durable: false); // as the executor's own transitions: a killed process keeps it; an OS crash may lose the last rounds
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

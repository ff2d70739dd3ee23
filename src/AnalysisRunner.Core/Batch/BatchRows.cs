using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Reading the batch tables' rows, the same for every store: SqliteBatchStore and PostgresBatchStore
/// select the same columns in the same order, and differ only in how a time or a flag is stored
/// (ISO text and 0/1 in SQLite, timestamptz and boolean in PostgreSQL), which is read here by value.
/// </summary>
internal static class BatchRows
{
    /// <summary>The columns <see cref="Batch"/> reads, after the batches' alias b and the jobs' alias j.</summary>
    public const string BatchColumns = """
        b.id, b.name, b.ar_guid, b.attributes, b.state, b.total_jobs, b.cancel_requested, b.created, b.completed, b.config_path
        """;

    /// <summary>The columns <see cref="Job"/> reads: the job, its spec's environment, its batch's config path, its latest attempt's usage.</summary>
    public const string JobColumns = """
        j.job_id, j.name, j.state, j.exit_code, j.attempt, j.started, j.ended, j.command, j.cpu, j.memory, j.image, j.always_run,
        j.parents, j.attributes, j.reason
        """;

    /// <summary>The columns <see cref="Attempt"/> reads.</summary>
    public const string AttemptColumns = "attempt, started, ended, exit_code, reason, log, cpu_seconds, peak_memory_bytes, wall_seconds";

    /// <summary>A batch row (BatchColumns) followed by its job counts: pending or ready, running, succeeded, failed, cancelled.</summary>
    public static BatchInfo Batch(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        Name = reader.GetString(1),
        ArGuid = reader.IsDBNull(2) ? null : reader.GetString(2),
        Attributes = Dictionary(reader.GetString(3)),
        State = Enum.Parse<BatchState>(reader.GetString(4)),
        TotalJobs = Int(reader, 5),
        CancelRequested = Flag(reader, 6),
        Created = Time(reader, 7)!.Value,
        Completed = Time(reader, 8),
        ConfigPath = reader.IsDBNull(9) ? null : reader.GetString(9),
        PendingJobs = Int(reader, 10),
        RunningJobs = Int(reader, 11),
        SucceededJobs = Int(reader, 12),
        FailedJobs = Int(reader, 13),
        CancelledJobs = Int(reader, 14),
    };

    /// <summary>A job row (JobColumns), then its spec's environment (JSON), its batch's config path, and its attempt's cpu, peak memory and wall time.</summary>
    public static JobInfo Job(DbDataReader reader, RunnerHome home, long batchId) => new()
    {
        BatchId = batchId,
        JobId = reader.GetInt32(0),
        Name = reader.GetString(1),
        State = Enum.Parse<JobState>(reader.GetString(2)),
        ExitCode = reader.IsDBNull(3) ? null : reader.GetInt32(3),
        Attempt = reader.GetInt32(4),
        Started = Time(reader, 5),
        Ended = Time(reader, 6),
        Command = reader.GetString(7),
        Cpu = reader.GetDouble(8),
        MemoryBytes = reader.GetInt64(9),
        Image = reader.IsDBNull(10) ? null : reader.GetString(10),
        AlwaysRun = Flag(reader, 11),
        Parents = JsonSerializer.Deserialize<int[]>(reader.GetString(12), SqliteBatchStore.Json) ?? [],
        Attributes = Dictionary(reader.GetString(13)),
        Reason = reader.IsDBNull(14) ? null : reader.GetString(14),
        Environment = Execution.JobEnvironment.For(home, batchId, reader.GetInt32(0), Math.Max(1, reader.GetInt32(4)),
            reader.IsDBNull(16) ? null : reader.GetString(16), cloudCredentials: null, cloud: false,
            reader.IsDBNull(15) ? new Dictionary<string, string>() : Dictionary(reader.GetString(15))).Variables
            .ToDictionary(pair => pair.Key, pair => pair.Value),
        CpuSeconds = reader.IsDBNull(17) ? null : reader.GetDouble(17),
        PeakMemoryBytes = reader.IsDBNull(18) ? null : reader.GetInt64(18),
        WallSeconds = reader.IsDBNull(19) ? null : reader.GetDouble(19),
    };

    /// <summary>An attempt row (AttemptColumns) followed by its job_id.</summary>
    public static JobAttempt AttemptOfBatch(DbDataReader reader, long batchId) => Attempt(reader, batchId, reader.GetInt32(AttemptColumns.Split(',').Length));

    /// <summary>An attempt row (AttemptColumns).</summary>
    public static JobAttempt Attempt(DbDataReader reader, long batchId, int jobId) => new(batchId, jobId, reader.GetInt32(0))
    {
        Started = Time(reader, 1),
        Ended = Time(reader, 2),
        ExitCode = reader.IsDBNull(3) ? null : reader.GetInt32(3),
        Reason = reader.IsDBNull(4) ? null : reader.GetString(4),
        RunnerLog = reader.IsDBNull(5) ? null : reader.GetString(5),
        CpuSeconds = reader.IsDBNull(6) ? null : reader.GetDouble(6),
        PeakMemoryBytes = reader.IsDBNull(7) ? null : reader.GetInt64(7),
        WallSeconds = reader.IsDBNull(8) ? null : reader.GetDouble(8),
    };

    private static DateTimeOffset? Time(DbDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetValue(column) switch
    {
        string text => SqliteBatchStore.ParseTimestamp(text),
        DateTime utc => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)),
        DateTimeOffset value => value.ToUniversalTime(),
        var other => throw new InvalidCastException($"A time column holds {other.GetType().Name}."),
    };

    private static bool Flag(DbDataReader reader, int column) => Convert.ToBoolean(reader.GetValue(column), CultureInfo.InvariantCulture);

    private static int Int(DbDataReader reader, int column) => Convert.ToInt32(reader.GetValue(column), CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Dictionary(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json, SqliteBatchStore.Json) ?? [];
}

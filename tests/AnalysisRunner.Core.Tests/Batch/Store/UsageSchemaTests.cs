using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Tests.Batch.Store;

/// <summary>Version 2 of the batch tables: a database made before measured usage gains its columns once, and its old attempts read as unmeasured.</summary>
public sealed class UsageSchemaTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ar-schema-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task An_attempts_table_from_before_gains_the_usage_columns_and_its_rows_read_as_unmeasured()
    {
        var home = new RunnerHome(_root);
        using (var connection = new SqliteConnection($"Data Source={home.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // The batch tables as version 1 made them (Schema; version 2 only adds columns), with one finished attempt.
            command.CommandText = SqliteBatchStore.Schema + """
                INSERT INTO batches (name, attributes, tmp_root, spec, state, created, total_jobs) VALUES ('old', '{}', '/tmp', '{}', 'Succeeded', '2026-01-01T00:00:00Z', 1);
                INSERT INTO jobs (batch_id, job_id, name, state, attempt, max_attempts, exit_code, started, ended, command, parents, cpu, memory, always_run, preemptible, attributes, spec)
                    VALUES (1, 1, 'j', 'Succeeded', 1, 1, 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:10Z', 'true', '[]', 1, 1048576, 0, 0, '{}', '{}');
                INSERT INTO attempts (batch_id, job_id, attempt, started, ended, exit_code) VALUES (1, 1, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:10Z', 0);
                """;
            command.ExecuteNonQuery();
            command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('attempts') WHERE name = 'cpu_seconds'";
            Assert.Equal(0L, (long)command.ExecuteScalar()!);
        }

        var store = new SqliteBatchStore(new RunnerDatabase(home));

        var attempt = Assert.Single(await store.GetAttemptsAsync(1, 1));
        Assert.Equal(0, attempt.ExitCode);
        Assert.Null(attempt.CpuSeconds);
        Assert.Null(attempt.PeakMemoryBytes);
        Assert.Null(attempt.WallSeconds);
        Assert.Null((await store.GetJobAsync(1, 1))!.CpuSeconds);
        using var check = new SqliteConnection($"Data Source={home.DatabasePath};Pooling=False");
        check.Open();
        using var version = check.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        Assert.Equal((long)SqliteBatchStore.UsageSchemaVersion, (long)version.ExecuteScalar()!);
    }
}

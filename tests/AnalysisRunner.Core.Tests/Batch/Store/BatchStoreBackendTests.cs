using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Tests.TestSupport;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Batch.Store;

public sealed class SqliteBatchStoreContractTests : BatchStoreContract
{
    protected override Task<string?> BatchDatabaseAsync() => Task.FromResult<string?>(null);
}

[RequiresPostgres]
[Collection(PostgresBatchCollection.Name)]
public sealed class PostgresBatchStoreContractTests(PostgresFixture postgres) : BatchStoreContract
{
    private string? _connectionString;

    protected override async Task<string?> BatchDatabaseAsync() => _connectionString = await postgres.CreateDatabaseAsync();

    private PostgresBatchStore Postgres => (PostgresBatchStore)Store;

    /// <summary>A retried dispatch and a server start racing to make one run's driver batch: one batch, both answered with it.</summary>
    [BackendFact]
    public async Task Racing_dispatches_of_one_run_make_one_driver_batch()
    {
        var spec = new BatchSpec { Name = "driver", ArGuid = "run-9", TmpRoot = "/tmp/x", Jobs = [new JobSpec { Index = 0, Name = "driver", Commands = ["true"] }] };

        var ids = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Postgres.SubmitDriverBatchAsync(spec))));

        var batch = Assert.Single(await Store.FindBatchesAsync(new BatchQuery { ArGuid = "run-9" }));
        Assert.All(ids, id => Assert.Equal(batch.Id, id));
        Assert.Equal(batch.Id, await Postgres.SubmitDriverBatchAsync(spec));
    }

    /// <summary>The rows are PostgreSQL's: the home's runner.db holds no batch table rows at all.</summary>
    [BackendFact]
    public async Task Batches_and_jobs_are_rows_in_PostgreSQL_and_none_in_the_homes_database()
    {
        var id = await Store.SubmitAsync(new BatchSpec { Name = "b", TmpRoot = "/tmp/x", Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }] });

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM batches WHERE id = $1) + (SELECT count(*) FROM jobs WHERE batch_id = $1)", connection);
        command.Parameters.AddWithValue(id);
        Assert.Equal(2L, await command.ExecuteScalarAsync());
        Assert.Equal(0, HomeBatchRows.Count(Deployment.Home));
    }

    /// <summary>
    /// Red team: a driver (through its run channel) or a cmdlet submits a batch with a NUL in a job's
    /// name, command, variable or attribute. In a name or command PostgreSQL refused the insert with an
    /// SQL error; in a variable or attribute the batch was stored, and then its jobs could never be
    /// listed (the job's JSON no longer reads as jsonb). The submitter refuses every such text, typed,
    /// before anything is stored.
    /// </summary>
    [BackendFact]
    public async Task A_batch_with_a_NUL_in_any_text_is_refused_before_it_is_stored()
    {
        var job = new JobSpec { Index = 0, Name = "j", Commands = ["true"] };
        var poisoned = new[]
        {
            job with { Name = "j\0k" },
            job with { Commands = ["echo a\0b"] },
            job with { Environment = new Dictionary<string, string> { ["V"] = "a\0b" } },
            job with { Attributes = new Dictionary<string, string> { ["a"] = "\0" } },
        };
        foreach (var bad in poisoned)
        {
            var spec = new BatchSpec { Name = "b", TmpRoot = "/tmp/x", Jobs = [bad] };

            var refused = Assert.ThrowsAny<AnalysisRunnerException>(() => new BatchSubmitter(Deployment).Check(spec, BatchScope.ForCaller("alice@example.org")));

            Assert.Equal(("NulCharacterInBatch", ErrorKind.InvalidArgument), (refused.ErrorId, refused.Kind));
            Assert.DoesNotContain("\0", refused.Message);
        }
        Assert.Empty(await Store.FindBatchesAsync(new BatchQuery()));
    }

    /// <summary>
    /// Red team: whoever reaches the database without the runner's key (a job sharing the host's
    /// network, with trust auth) rewrites a stored job's command or a batch's spec, or copies a sealed
    /// batch row over another. The executor loads specs only as the runner sealed them, ids included.
    /// </summary>
    [BackendFact]
    public async Task The_executor_loads_only_batch_and_job_rows_the_runner_sealed()
    {
        var spec = new BatchSpec { Name = "b", ArGuid = "run-7", TmpRoot = "/tmp/x", Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["echo honest"] }] };
        var id = await Store.SubmitAsync(spec);
        var other = await Store.SubmitAsync(spec with { Name = "c" });
        using var ledger = Deployment.OpenJobLedger();
        Assert.Equal("run-7", (await ledger.LoadBatchSpecAsync(id)).ArGuid);
        Assert.Equal(["echo honest"], (await ledger.LoadJobSpecAsync(id, 1)).Commands);

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        async Task ExecuteAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(other);
            await command.ExecuteNonQueryAsync();
        }
        await ExecuteAsync("UPDATE jobs SET spec = replace(spec, 'echo honest', 'echo forged') WHERE batch_id = $1 AND $2 > 0");
        await ExecuteAsync("UPDATE batches SET spec = replace(spec, 'run-7', 'run-8') WHERE id = $1 AND $2 > 0");
        // The first batch's row, seal and all, over the second.
        await ExecuteAsync("UPDATE batches SET (spec, seal) = (SELECT spec, seal FROM batches WHERE id = $1) WHERE id = $2");

        foreach (var forged in new Func<Task>[] { () => ledger.LoadJobSpecAsync(id, 1), () => ledger.LoadBatchSpecAsync(id), () => ledger.LoadBatchSpecAsync(other) })
        {
            var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(forged);
            Assert.Equal(("BatchRowNotSealed", ErrorKind.PermissionDenied), (refused.ErrorId, refused.Kind));
        }
        Assert.Equal(["echo honest"], (await ledger.LoadJobSpecAsync(other, 1)).Commands);
    }

    /// <summary>A home that ran batches before its settings named a database: the first batch there gets an id after its last batch folder, never one whose logs exist.</summary>
    [BackendFact]
    public async Task A_home_switched_to_PostgreSQL_continues_its_batch_ids()
    {
        var home = new Core.Hosting.RunnerHome(HomePath + "-switched");
        string? database = null;
        try
        {
            Core.Hosting.Deployment.Open(home, new Runs.RecordingExecutor());
            Directory.CreateDirectory(Path.Combine(home.LogsDirectory, "41"));
            Directory.CreateDirectory(Path.Combine(home.LogsDirectory, "7"));
            Directory.CreateDirectory(Path.Combine(home.LogsDirectory, "not-a-batch"));
            database = await postgres.CreateDatabaseAsync();
            await File.AppendAllTextAsync(home.SettingsPath, $"\n[batches]\ndatabase = '{database}'\n");
            var store = Core.Hosting.Deployment.Open(home, new Runs.RecordingExecutor()).Batches;

            var first = await store.SubmitAsync(new BatchSpec { Name = "b", TmpRoot = "/tmp/x", Jobs = [] });
            var second = await store.SubmitAsync(new BatchSpec { Name = "c", TmpRoot = "/tmp/x", Jobs = [] });

            Assert.Equal((42L, 43L), (first, second));
        }
        finally
        {
            if (database is not null) await Core.Hosting.Deployment.CloseBatchDatabaseAsync(database);
            if (Directory.Exists(home.Root)) Directory.Delete(home.Root, recursive: true);
        }
    }

    /// <summary>
    /// Red team: a job that reaches the database re-points another dataset's batch at its own run (the
    /// ar_guid and attributes columns, which the seal does not cover), or writes a batch row of its own
    /// naming its run. The server's pages and endpoints, the job's run channel (BatchOutsideRun), a run's
    /// cancel and a token's expiry all decide whose a batch is by BatchInfo.ArGuid and the author
    /// attribute; before the fix they read those columns, so the job could read the other batch's jobs
    /// and logs through its run channel, or cancel it. Now they come from the sealed spec, and a row
    /// without the seal is no one's.
    /// </summary>
    [BackendFact]
    public async Task A_batch_re_pointed_at_another_run_in_the_database_stays_the_run_its_seal_names()
    {
        var attributes = new Dictionary<string, string> { ["author"] = "bob@example.org", ["dataset"] = "otherdata", ["access_level"] = "full" };
        var victim = await Store.SubmitAsync(new BatchSpec
        {
            Name = "theirs", ArGuid = "run-victim", Attributes = attributes, ConfigPath = "/c/victim.toml", TmpRoot = "/tmp/x",
            Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["sleep 1"] }],
        });
        var mine = await Store.SubmitAsync(new BatchSpec { Name = "mine", ArGuid = "run-mine", TmpRoot = "/tmp/x", Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }] });

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var repoint = new NpgsqlCommand("""
            UPDATE batches SET ar_guid = 'run-mine', name = 'mine too', config_path = '/c/mine.toml',
                attributes = '{"author":"mallory@example.org","dataset":"fewgenomes","access_level":"test"}' WHERE id = $1
            """, connection))
        {
            repoint.Parameters.AddWithValue(victim);
            await repoint.ExecuteNonQueryAsync();
        }
        long forged;
        await using (var write = new NpgsqlCommand("""
            INSERT INTO batches (name, ar_guid, attributes, config_path, tmp_root, spec, state, cancel_requested, created, total_jobs)
            SELECT 'forged', 'run-mine', '{"author":"mallory@example.org"}', config_path, tmp_root, spec, 'Running', false, now(), 0
            FROM batches WHERE id = $1 RETURNING id
            """, connection))
        {
            write.Parameters.AddWithValue(mine);
            forged = (long)(await write.ExecuteScalarAsync())!;
        }

        Assert.Equal([mine], (await Store.FindBatchesAsync(new BatchQuery { ArGuid = "run-mine" })).Select(batch => batch.Id));
        var theirs = (await Store.GetBatchAsync(victim))!;
        Assert.Equal(("run-victim", "theirs", "/c/victim.toml", "bob@example.org"), (theirs.ArGuid, theirs.Name, theirs.ConfigPath, theirs.Attributes["author"]));
        var unsealed = (await Store.GetBatchAsync(forged))!;
        Assert.Equal(((string?)null, 0), (unsealed.ArGuid, unsealed.Attributes.Count));
        Assert.Equal([mine], (await Store.RequestCancelRunAsync("run-mine")));
        Assert.False((await Store.GetBatchAsync(victim))!.CancelRequested);
    }

    /// <summary>
    /// Red team (replay): a batch's state is not sealed, so whoever reaches the database sets a batch
    /// the executor finished back to Running, or inserts a removed batch again from its rows, seals and
    /// all. The executor's own record in runner.db keeps it from loading either to run again.
    /// </summary>
    [BackendFact]
    public async Task A_batch_the_executor_finished_is_not_loaded_again_when_the_database_says_running()
    {
        var spec = new BatchSpec { Name = "b", ArGuid = "run-7", TmpRoot = "/tmp/x", Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }] };
        var finished = await Store.SubmitAsync(spec);
        var removed = await Store.SubmitAsync(spec with { Name = "c" });
        var running = await Store.SubmitAsync(spec with { Name = "d" });
        using var ledger = Deployment.OpenJobLedger();
        await ledger.WriteAsync([], [], [(finished, BatchState.Succeeded), (removed, BatchState.Failed)]);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        // Ids of this test's own batches, so the statements can be one simple query each.
        await using (var copy = new NpgsqlCommand(
            $"CREATE TABLE kept AS SELECT * FROM batches WHERE id = {removed}; CREATE TABLE kept_jobs AS SELECT * FROM jobs WHERE batch_id = {removed}", connection))
            await copy.ExecuteNonQueryAsync();
        await Store.RemoveAsync(removed);
        await using (var replay = new NpgsqlCommand($"""
            UPDATE batches SET state = 'Running', completed = NULL WHERE id = {finished};
            INSERT INTO batches SELECT * FROM kept; UPDATE batches SET state = 'Running' WHERE id = {removed};
            INSERT INTO jobs SELECT * FROM kept_jobs; UPDATE jobs SET state = 'Ready' WHERE batch_id IN ({finished}, {removed})
            """, connection))
            await replay.ExecuteNonQueryAsync();

        var loaded = (await ledger.LoadBatchesAsync(0)).Select(batch => batch.Id).ToList();

        Assert.Equal([running], loaded);
    }

    /// <summary>
    /// Red team (replay of one job): a job's state is not sealed either, so whoever reaches the
    /// database sets a job the executor finished back to Ready while its batch still runs; the next
    /// executor to load the batch ran it again with its run's scope. The executor's record of the jobs
    /// it finished keeps each as it ended; the job nobody finished is left as the database says.
    /// </summary>
    [BackendFact]
    public async Task A_job_the_executor_finished_is_loaded_as_it_ended_when_the_database_says_ready()
    {
        var running = await Store.SubmitAsync(new BatchSpec
        {
            Name = "b", ArGuid = "run-8", TmpRoot = "/tmp/x",
            Jobs = [new JobSpec { Index = 0, Name = "done", Commands = ["true"] }, new JobSpec { Index = 1, Name = "still running", Commands = ["sleep 60"] }],
        });
        using var ledger = Deployment.OpenJobLedger();
        await ledger.WriteAsync([new JobTransition(running, 1, JobState.Running, 1), new JobTransition(running, 2, JobState.Running, 1)], [], []);
        await ledger.WriteAsync([new JobTransition(running, 1, JobState.Succeeded, 1, ExitCode: 0)], [], []);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var replay = new NpgsqlCommand($"UPDATE jobs SET state = 'Ready', ended = NULL WHERE batch_id = {running}", connection))
            await replay.ExecuteNonQueryAsync();

        var jobs = Assert.Single(await ledger.LoadBatchesAsync(0), batch => batch.Id == running).Jobs;

        Assert.Equal([(1, JobState.Succeeded, JobState.Ready), (2, JobState.Ready, (JobState?)null)], jobs.Select(job => (job.JobId, job.State, job.Stored)));
    }

    /// <summary>
    /// Red team (a skip): whoever reaches the database writes an end into a job the executor never
    /// finished (the gate of its batch, Succeeded), so that its children start without it. A job is
    /// loaded ended only as the executor recorded it; this one is Pending, the row to be written back.
    /// </summary>
    [BackendFact]
    public async Task A_job_the_database_shows_ended_that_the_executor_never_finished_is_loaded_pending()
    {
        var id = await Store.SubmitAsync(new BatchSpec
        {
            Name = "gated", ArGuid = "run-10", TmpRoot = "/tmp/x",
            Jobs = [new JobSpec { Index = 0, Name = "gate", Commands = ["false"] }, new JobSpec { Index = 1, Name = "after the gate", Commands = ["true"], DependsOn = [0] }],
        });
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var skip = new NpgsqlCommand($"UPDATE jobs SET state = 'Succeeded', exit_code = 0, ended = now() WHERE batch_id = {id} AND job_id = 1", connection))
            await skip.ExecuteNonQueryAsync();
        using var ledger = Deployment.OpenJobLedger();

        var jobs = Assert.Single(await ledger.LoadBatchesAsync(0), batch => batch.Id == id).Jobs;

        Assert.Equal([(1, JobState.Pending, JobState.Succeeded), (2, JobState.Pending, (JobState?)null)], jobs.Select(job => (job.JobId, job.State, job.Stored)));
    }

    /// <summary>
    /// Red team (a reused id): a batch's rows deleted and the id sequence set back, so the next batch
    /// gets an id the executor holds records of. A record is made under its batch row's seal, so the
    /// old batch's ends do not decide for the new one: its gate loads as the database says.
    /// </summary>
    [BackendFact]
    public async Task A_record_of_a_deleted_batch_does_not_decide_for_a_new_batch_given_its_id()
    {
        var old = await Store.SubmitAsync(new BatchSpec
        {
            Name = "old", ArGuid = "run-90", TmpRoot = "/tmp/x",
            Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }, new JobSpec { Index = 1, Name = "k", Commands = ["true"] }],
        });
        using (var ledger = Deployment.OpenJobLedger())
            await ledger.WriteAsync([new JobTransition(old, 1, JobState.Succeeded, 1, ExitCode: 0)], [], []);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var reuse = new NpgsqlCommand(
            $"DELETE FROM attempts WHERE batch_id = {old}; DELETE FROM jobs WHERE batch_id = {old}; DELETE FROM batches WHERE id = {old}; SELECT setval('batches_id_seq', {old}, false)",
            connection))
            await reuse.ExecuteNonQueryAsync();
        var victim = await Store.SubmitAsync(new BatchSpec
        {
            Name = "gated", ArGuid = "run-91", TmpRoot = "/tmp/x",
            Jobs = [new JobSpec { Index = 0, Name = "gate", Commands = ["false"] }, new JobSpec { Index = 1, Name = "after the gate", Commands = ["true"], DependsOn = [0] }],
        });
        Assert.Equal(old, victim);
        using var fresh = Deployment.OpenJobLedger();

        var jobs = Assert.Single(await fresh.LoadBatchesAsync(0), batch => batch.Id == victim).Jobs;

        Assert.Equal([(1, JobState.Ready), (2, JobState.Pending)], jobs.Select(job => (job.JobId, job.State)));
    }

    /// <summary>
    /// A job's end is in the executor's record before PostgreSQL has it: a round whose commit fails
    /// leaves the record, and the job loads as it ended, with the row (still Running) to be written back.
    /// Were it recorded after the commit, an end PostgreSQL held without a record would load as Pending.
    /// </summary>
    [BackendFact]
    public async Task A_jobs_end_is_recorded_before_PostgreSQL_commits_it()
    {
        var id = await Store.SubmitAsync(new BatchSpec
        {
            Name = "b", ArGuid = "run-11", TmpRoot = "/tmp/x",
            Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }, new JobSpec { Index = 1, Name = "k", Commands = ["true"] }],
        });
        using var ledger = Deployment.OpenJobLedger();
        await ledger.WriteAsync([new JobTransition(id, 1, JobState.Running, 1)], [], []);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var refuse = new NpgsqlCommand("""
            CREATE FUNCTION refuse_ends() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
            CREATE TRIGGER refuse_ends BEFORE UPDATE ON jobs FOR EACH ROW WHEN (NEW.state = 'Succeeded') EXECUTE FUNCTION refuse_ends()
            """, connection))
            await refuse.ExecuteNonQueryAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => ledger.WriteAsync([new JobTransition(id, 1, JobState.Succeeded, 1, ExitCode: 0)], [], []));

        var jobs = Assert.Single(await ledger.LoadBatchesAsync(0), batch => batch.Id == id).Jobs;
        Assert.Equal([(1, JobState.Succeeded, JobState.Running), (2, JobState.Ready, (JobState?)null)], jobs.Select(job => (job.JobId, job.State, job.Stored)));
    }

    /// <summary>
    /// Red team (the graph): a job's parents, attempts and needs are columns, not sealed, so whoever
    /// reaches the database frees a job from its gate (parents '[]'), or gives it more attempts. The
    /// executor takes them from the sealed spec; a job row without its seal is a root that cannot start.
    /// </summary>
    [BackendFact]
    public async Task The_executor_takes_a_jobs_parents_and_attempts_from_its_sealed_spec_not_its_columns()
    {
        var id = await Store.SubmitAsync(new BatchSpec
        {
            Name = "gated", ArGuid = "run-9", TmpRoot = "/tmp/x",
            Jobs =
            [
                new JobSpec { Index = 0, Name = "gate", Commands = ["true"] },
                new JobSpec { Index = 1, Name = "after the gate", Commands = ["true"], DependsOn = [0], Cpu = 2 },
                new JobSpec { Index = 2, Name = "forged", Commands = ["true"], DependsOn = [0] },
            ],
        });
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var free = new NpgsqlCommand($"""
            UPDATE jobs SET parents = '[]', max_attempts = 9, always_run = true, preemptible = true, cpu = 0.5 WHERE batch_id = {id} AND job_id = 2;
            UPDATE jobs SET spec = replace(spec, '"true"', '"id"'), parents = '[1]' WHERE batch_id = {id} AND job_id = 3
            """, connection))
            await free.ExecuteNonQueryAsync();
        using var ledger = Deployment.OpenJobLedger();

        var jobs = Assert.Single(await ledger.LoadBatchesAsync(0), batch => batch.Id == id).Jobs;

        var gated = jobs.Single(job => job.JobId == 2);
        Assert.Equal([1], gated.Parents);
        Assert.Equal((1, false, false, 2.0), (gated.MaxAttempts, gated.AlwaysRun, gated.Preemptible, gated.Cpu));
        var forged = jobs.Single(job => job.JobId == 3);
        Assert.Empty(forged.Parents);
        Assert.Equal(1, forged.MaxAttempts);
        var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(() => ledger.LoadJobSpecAsync(id, 3));
        Assert.Equal("BatchRowNotSealed", refused.ErrorId);
    }

    /// <summary>
    /// Red team (blinding): the executor loads batches above the highest id it has seen, so a Running
    /// row at the highest id (copied, seal and all) hid every later batch from it. A batch row whose
    /// seal does not hold for its id is not loaded, and its id counts for nothing.
    /// </summary>
    [BackendFact]
    public async Task A_batch_row_the_runner_did_not_seal_for_its_id_is_not_loaded()
    {
        var real = await Store.SubmitAsync(new BatchSpec { Name = "real", ArGuid = "run-10", TmpRoot = "/tmp/x", Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }] });
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var forge = new NpgsqlCommand($"""
            INSERT INTO batches (id, name, ar_guid, attributes, config_path, tmp_root, spec, state, cancel_requested, created, total_jobs, seal)
            SELECT 9223372036854775807, name, ar_guid, attributes, config_path, tmp_root, spec, 'Running', false, now(), total_jobs, seal FROM batches WHERE id = {real}
            """, connection))
            await forge.ExecuteNonQueryAsync();
        using var ledger = Deployment.OpenJobLedger();

        var loaded = (await ledger.LoadBatchesAsync(0)).Select(batch => batch.Id).ToList();

        Assert.Contains(real, loaded);
        Assert.DoesNotContain(long.MaxValue, loaded);
    }

    /// <summary>A job state the executor never writes (an unparsable one, or a number) stops its batch from loading, not every batch.</summary>
    [BackendFact]
    public async Task A_batch_with_a_job_state_the_executor_never_writes_is_not_loaded_and_the_others_are()
    {
        var spec = new BatchSpec { Name = "s", ArGuid = "run-11", TmpRoot = "/tmp/x", Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }] };
        var garbled = await Store.SubmitAsync(spec);
        var numbered = await Store.SubmitAsync(spec with { Name = "t" });
        var sound = await Store.SubmitAsync(spec with { Name = "u" });
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var garble = new NpgsqlCommand($"UPDATE jobs SET state = 'Exploded' WHERE batch_id = {garbled}; UPDATE jobs SET state = '42' WHERE batch_id = {numbered}", connection))
            await garble.ExecuteNonQueryAsync();
        using var ledger = Deployment.OpenJobLedger();

        var loaded = (await ledger.LoadBatchesAsync(0)).Select(batch => batch.Id).ToList();

        Assert.Contains(sound, loaded);
        Assert.DoesNotContain(garbled, loaded);
        Assert.DoesNotContain(numbered, loaded);
    }

    /// <summary>An unreachable database is DatabaseUnavailable (503 on a server), not an SQL error.</summary>
    [BackendFact]
    public async Task An_unreachable_database_is_DatabaseUnavailable()
    {
        var home = new Core.Hosting.RunnerHome(HomePath + "-unreachable");
        try
        {
            Core.Hosting.Deployment.Open(home, new Runs.RecordingExecutor());
            await File.AppendAllTextAsync(home.SettingsPath, "\n[batches]\ndatabase = 'Host=127.0.0.1;Port=1;Database=x;Username=x;Timeout=2'\n");
            var store = Core.Hosting.Deployment.Open(home, new Runs.RecordingExecutor()).Batches;

            var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => store.FindBatchesAsync(new BatchQuery()));

            Assert.Equal(("DatabaseUnavailable", ErrorKind.ResourceUnavailable), (error.ErrorId, error.Kind));
        }
        finally
        {
            if (Directory.Exists(home.Root)) Directory.Delete(home.Root, recursive: true);
        }
    }
}

/// <summary>Rows in the home's own batch tables (0 when runner.db has no such tables).</summary>
internal static class HomeBatchRows
{
    public static long Count(Core.Hosting.RunnerHome home)
    {
        if (!File.Exists(home.DatabasePath)) return 0;
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={home.DatabasePath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('batches', 'jobs', 'attempts')";
        if ((long)command.ExecuteScalar()! == 0) return 0;
        command.CommandText = "SELECT (SELECT count(*) FROM batches) + (SELECT count(*) FROM jobs) + (SELECT count(*) FROM attempts)";
        return (long)command.ExecuteScalar()!;
    }
}

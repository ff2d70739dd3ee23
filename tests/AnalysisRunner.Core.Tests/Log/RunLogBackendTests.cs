using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.TestSupport;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Log;

[Collection(PostgresCollection.Name)]
public sealed class SqliteRunLogContractTests : RunLogContract
{
    protected override IRunLog Log => Deployment.RunLog;

    protected override Task<int> CountStoredConfigsAsync() =>
        Task.FromResult(Directory.Exists(Deployment.Home.ConfigStoreDirectory) ? Directory.GetFiles(Deployment.Home.ConfigStoreDirectory).Length : 0);
}

/// <summary>The embedded run store over a home whose batches are in PostgreSQL: the driver batch there, the audit row in runner.db.</summary>
[RequiresPostgres]
[Collection(PostgresBatchCollection.Name)]
public sealed class SqliteRunLogWithPostgresBatchesContractTests(PostgresFixture postgres) : RunLogContract, IAsyncLifetime
{
    protected override IRunLog Log => Deployment.RunLog;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is null) await UseBatchDatabaseAsync(await postgres.CreateDatabaseAsync());
    }

    public async Task DisposeAsync()
    {
        if (BatchDatabase is not null) await Core.Hosting.Deployment.CloseBatchDatabaseAsync(BatchDatabase);
    }

    protected override Task<int> CountStoredConfigsAsync() =>
        Task.FromResult(Directory.Exists(Deployment.Home.ConfigStoreDirectory) ? Directory.GetFiles(Deployment.Home.ConfigStoreDirectory).Length : 0);
}

/// <summary>
/// The server's run store (PostgresRunLog, the dispatcher between it and the home's batches) over a
/// database of its own: what its two arrangements share. <see cref="BatchesInPostgres"/> puts the
/// home's batches in that same database (the server's usual set-up), else they stay in runner.db.
/// </summary>
public abstract class PostgresRunLogContract(PostgresFixture postgres) : RunLogContract, IAsyncLifetime
{
    protected PostgresDatabase? Database { get; private set; }

    /// <summary>The test cluster, for a database of another's own.</summary>
    protected PostgresFixture Postgres => postgres;

    protected abstract bool BatchesInPostgres { get; }

    protected override IRunLog Log => Deployment.RunLog;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        var connectionString = await postgres.CreateDatabaseAsync();
        Database = new PostgresDatabase(connectionString);
        await new SchemaMigrator(Database).ApplyAsync(ServerSchema.Migrations);
        if (BatchesInPostgres) await UseBatchDatabaseAsync(connectionString);
        Deployment.UseRunLog(new PostgresRunLog(Database, new HomeDriverBatches(Deployment)));
    }

    public async Task DisposeAsync()
    {
        if (Database is not null) await Database.DisposeAsync();
        if (BatchDatabase is not null) await Core.Hosting.Deployment.CloseBatchDatabaseAsync(BatchDatabase);
    }

    protected override async Task<int> CountStoredConfigsAsync()
    {
        await using var connection = await Database!.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM run_configs", connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await Database!.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A log from before runs carried seals (migration 5): its runs cannot be read until the server's start seals them, once, since their chain verifies.</summary>
    [BackendFact]
    public async Task Runs_logged_before_seals_existed_are_sealed_once_when_their_chain_verifies()
    {
        await Log.AppendAsync(Submission());
        await Log.AppendAsync(Submission());
        await ScalarAsync("WITH a AS (UPDATE audit_log SET seal = NULL RETURNING 1), d AS (UPDATE run_dispatch SET seal = NULL RETURNING 1) SELECT count(*) FROM a");
        var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(() => QueryAsync(new LogQuery()));
        Assert.Equal("RunEntryNotSealed", refused.ErrorId);

        Assert.Equal(2, await ((PostgresRunLog)Log).SealEarlierEntriesAsync());

        Assert.Equal(2, (await QueryAsync(new LogQuery())).Count);
        Assert.Equal(0, await ((PostgresRunLog)Log).SealEarlierEntriesAsync());
    }

    /// <summary>An entry edited before seals existed breaks the chain: nothing is sealed, so the edit is never taken for a run.</summary>
    [BackendFact]
    public async Task A_chain_that_does_not_verify_is_sealed_nowhere()
    {
        await Log.AppendAsync(Submission());
        await Log.AppendAsync(Submission());
        await ScalarAsync("WITH a AS (UPDATE audit_log SET seal = NULL, entry = replace(entry, 'fewgenomes', 'othergenomes') WHERE id = (SELECT min(id) FROM audit_log) RETURNING 1) SELECT count(*) FROM a");
        await ScalarAsync("WITH a AS (UPDATE audit_log SET seal = NULL RETURNING 1) SELECT count(*) FROM a");

        Assert.Equal(0, await ((PostgresRunLog)Log).SealEarlierEntriesAsync());

        Assert.Equal(2, await ScalarAsync("SELECT count(*) FROM audit_log WHERE seal IS NULL"));
    }
}

/// <summary>The server's arrangement: runs and batches both in PostgreSQL (one database), the dispatcher between them.</summary>
[RequiresPostgres]
[Collection(PostgresBatchCollection.Name)]
public sealed class PostgresRunLogWithPostgresBatchesContractTests(PostgresFixture postgres) : PostgresRunLogContract(postgres)
{
    protected override bool BatchesInPostgres => true;

    /// <summary>The run, its config and its driver batch are one commit: nothing waits in the outbox, nothing is copied into the home, and the executor scopes the batch by the entry in PostgreSQL.</summary>
    [BackendFact]
    public async Task A_run_and_its_driver_batch_are_one_commit_with_nothing_to_dispatch()
    {
        var submission = Submission();

        var logged = await Log.AppendAsync(submission);

        var batch = Assert.Single(await BatchesAsync(submission.Run.ArGuid));
        Assert.Equal(batch.Id, logged.DriverBatchId);
        Assert.Equal(batch.Id, (await Log.FindAsync(submission.Run.ArGuid))!.DriverBatchId);
        Assert.Equal(0, await Log.DispatchPendingAsync());
        Assert.Empty(Deployment.HomeAuditLog.ReadCopies());
        Assert.Null(Deployment.HomeAuditLog.Find(submission.Run.ArGuid));
        Assert.True(File.Exists(logged.ConfigPath), "the config the batch reads was not published before its commit");
        var scope = BatchScope.Of(new BatchSpec { Name = "x", ArGuid = submission.Run.ArGuid, TmpRoot = "/tmp", Jobs = [] }, Deployment.LoggedRuns);
        Assert.Equal(submission.Run.ArGuid, scope.Run!.ArGuid);
        Assert.True(AuditChain.Verify(await ChainAsync()).Valid);
    }

    /// <summary>A statement failing after the batch row was written in the run's transaction (PostgreSQL's text refuses NUL, here in the config row) takes the batch with it, and the config published for it is withdrawn.</summary>
    [BackendFact]
    public async Task An_append_failing_after_its_batch_row_leaves_no_batch_row_or_config()
    {
        var submission = Submission(config: "[workflow]\nname = 'a\0b'\n");

        await Assert.ThrowsAnyAsync<Exception>(() => Log.AppendAsync(submission));

        Assert.Empty(await BatchesAsync());
        Assert.Null(await Log.FindAsync(submission.Run.ArGuid));
        Assert.Equal(0, await CountStoredConfigsAsync());
        Assert.False(File.Exists(submission.Run.ConfigPath), "the config of a run that was not logged is still published");
    }

    /// <summary>A home whose batches are in another database than the server's log: the executor would find none of its runs, so every submission is refused before anything is written.</summary>
    [BackendFact]
    public async Task Batches_in_another_database_than_the_runs_are_refused_with_nothing_written()
    {
        await using var elsewhere = new PostgresDatabase(await Postgres.CreateDatabaseAsync());
        await new SchemaMigrator(elsewhere).ApplyAsync(ServerSchema.Migrations);
        var log = new PostgresRunLog(elsewhere, new HomeDriverBatches(Deployment));
        var submission = Submission();

        var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(() => log.AppendAsync(submission));

        Assert.Equal("BatchDatabaseMismatch", refused.ErrorId);
        Assert.Empty(await BatchesAsync());
        Assert.Null(await log.FindAsync(submission.Run.ArGuid));
        Assert.False(File.Exists(submission.Run.ConfigPath));
    }

    /// <summary>
    /// Red team: whoever reaches the database rewrites a logged run's entry (another dataset, full) and
    /// recomputes its hash, which is not keyed, or writes an entry of their own. The executor took such
    /// an entry for the run of the batches naming it; now an entry counts only with the runner's seal.
    /// </summary>
    [BackendFact]
    public async Task An_entry_rewritten_or_written_in_the_database_is_no_runs_authority()
    {
        var logged = await Log.AppendAsync(Submission());
        var honest = Deployment.LoggedRuns.Find(logged.ArGuid)!;
        var widened = honest with { Dataset = "othergenomes", AccessLevel = AccessLevel.Full, EntryHash = null };
        widened = widened with { EntryHash = AuditChain.EntryHash(widened.PreviousHash!, widened) };
        AuditChain.CheckEntry(widened);
        var invented = widened with { ArGuid = Guid.NewGuid().ToString(), EntryHash = null };
        invented = invented with { EntryHash = AuditChain.EntryHash(invented.PreviousHash!, invented) };
        await using (var connection = await Database!.OpenAsync())
        {
            await using var rewrite = new NpgsqlCommand(
                "UPDATE audit_log SET entry = $2, entry_hash = $3, dataset = 'othergenomes', access_level = 'full' WHERE ar_guid = $1", connection);
            rewrite.Parameters.AddWithValue(logged.ArGuid);
            rewrite.Parameters.AddWithValue(EntryJson(widened));
            rewrite.Parameters.AddWithValue(widened.EntryHash!);
            Assert.Equal(1, await rewrite.ExecuteNonQueryAsync());
            await using var insert = new NpgsqlCommand("""
                INSERT INTO audit_log (ar_guid, timestamp_ms, user_email, dataset, access_level, entry, prev_hash, entry_hash)
                VALUES ($1, 0, 'alice@example.org', 'othergenomes', 'full', $2, $3, $4)
                """, connection);
            insert.Parameters.AddWithValue(invented.ArGuid);
            insert.Parameters.AddWithValue(EntryJson(invented));
            insert.Parameters.AddWithValue(invented.PreviousHash!);
            insert.Parameters.AddWithValue(invented.EntryHash!);
            await insert.ExecuteNonQueryAsync();
        }

        foreach (var arGuid in new[] { logged.ArGuid, invented.ArGuid })
        {
            var claim = new BatchSpec { Name = "x", ArGuid = arGuid, TmpRoot = "/tmp", Jobs = [] };
            var refused = Assert.Throws<AnalysisRunnerException>(() => BatchScope.Of(claim, Deployment.LoggedRuns));
            Assert.Equal(("RunEntryNotSealed", ErrorKind.PermissionDenied), (refused.ErrorId, refused.Kind));
        }
    }

    /// <summary>
    /// Red team: a job that reaches the database rewrites another dataset's logged run to name its own
    /// dataset, the test level and its own user (the entry's text and columns, its hash recomputed or
    /// not). The server decides by the entry it reads who may read the run, its batches and their logs
    /// (RunnerReader.GetRun, DatasetReadAccess) and who may cancel them (RunWriteAccess); it read entries
    /// unchecked, so the job's user could read and cancel that run through the API. Now the server's
    /// queries answer an entry only as the runner sealed it, and filter by the sealed entry, not the columns.
    /// </summary>
    [BackendFact]
    public async Task An_entry_rewritten_in_the_database_is_not_what_the_server_reads()
    {
        var theirs = await Log.AppendAsync(Submission(dataset: "othergenomes", user: "bob@example.org", level: AccessLevel.Full));
        var mine = await Log.AppendAsync(Submission(dataset: "fewgenomes", user: "mallory@example.org"));
        var stored = (await Log.FindAsync(theirs.ArGuid))! with { DriverBatchId = 0 };
        var claimed = stored with { Dataset = "fewgenomes", AccessLevel = AccessLevel.Test, User = "mallory@example.org" };
        var rehashed = claimed with { EntryHash = AuditChain.EntryHash(claimed.PreviousHash!, claimed) };
        await using var connection = await Database!.OpenAsync();
        async Task RewriteAsync(RunRecord entry)
        {
            await using var rewrite = new NpgsqlCommand("""
                UPDATE audit_log SET entry = $2, entry_hash = $3, dataset = $4, access_level = $5, user_email = $6 WHERE ar_guid = $1
                """, connection);
            rewrite.Parameters.AddWithValue(theirs.ArGuid);
            rewrite.Parameters.AddWithValue(EntryJson(entry));
            rewrite.Parameters.AddWithValue(entry.EntryHash!);
            rewrite.Parameters.AddWithValue(entry.Dataset);
            rewrite.Parameters.AddWithValue(entry.AccessLevel.ToConfigName());
            rewrite.Parameters.AddWithValue(entry.User);
            Assert.Equal(1, await rewrite.ExecuteNonQueryAsync());
        }

        // Its text alone no longer hashes as stored; with its hash recomputed it lacks the seal, which only the runner's key makes.
        foreach (var (forged, errorId, kind) in new[] { (claimed, "AuditChainBroken", ErrorKind.InvalidData), (rehashed, "RunEntryNotSealed", ErrorKind.PermissionDenied) })
        {
            await RewriteAsync(forged);
            var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Log.FindAsync(theirs.ArGuid));
            Assert.Equal((errorId, kind), (refused.ErrorId, refused.Kind));
            var listed = await Assert.ThrowsAsync<AnalysisRunnerException>(() => QueryAsync(new LogQuery { Dataset = "fewgenomes", User = "mallory@example.org" }));
            Assert.Equal(errorId, listed.ErrorId);
        }

        // Put back as logged; then mallory's own, honest entry re-filed under bob's dataset by its columns alone.
        await RewriteAsync(stored);
        await using (var refile = new NpgsqlCommand("UPDATE audit_log SET dataset = 'othergenomes', access_level = 'full' WHERE ar_guid = $1", connection))
        {
            refile.Parameters.AddWithValue(mine.ArGuid);
            await refile.ExecuteNonQueryAsync();
        }
        Assert.Equal([theirs.ArGuid], (await QueryAsync(new LogQuery { Dataset = "othergenomes" })).Select(run => run.ArGuid));
        Assert.Equal("bob@example.org", (await Log.FindAsync(theirs.ArGuid))!.User);
    }

    private static string EntryJson(RunRecord run) =>
        System.Text.Json.JsonSerializer.Serialize(run with { PreviousHash = null, EntryHash = null, DriverBatchId = 0, Url = null }, Core.Http.ApiJson.Options);

    /// <summary>One database written two ways (a host name and its address) is known to be one, by PostgreSQL's advisory locks rather than by the text.</summary>
    [BackendFact]
    public async Task One_database_named_two_ways_is_one_and_two_databases_are_two()
    {
        var connectionString = BatchDatabase!;
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Host = builder.Host == "localhost" ? "127.0.0.1" : "localhost";
        await using var sameByAnotherName = new PostgresDatabase(builder.ConnectionString);
        await using var another = new PostgresDatabase(await Postgres.CreateDatabaseAsync());

        Assert.True(Database!.IsSameDatabaseAs(sameByAnotherName));
        Assert.False(Database.IsSameDatabaseAs(another));
        Assert.False(another.IsSameDatabaseAs(sameByAnotherName));
    }
}

[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class PostgresRunLogContractTests(PostgresFixture postgres) : PostgresRunLogContract(postgres)
{
    protected override bool BatchesInPostgres => false;

    /// <summary>A dispatcher failing (or killed) between PostgreSQL's commit and the batch's creation: the run waits in the outbox, and the next dispatch (the server's retry or start) creates its one batch.</summary>
    [BackendFact]
    public async Task A_run_whose_dispatch_died_before_the_batch_gets_exactly_one_batch_on_restart()
    {
        var dying = new PostgresRunLog(Database!, new FailingTarget(new HomeDriverBatches(Deployment), createFirst: false));
        var submission = Submission();
        Exception? reported = null;
        dying.DispatchFailed += (run, error) => reported = run.ArGuid == submission.Run.ArGuid ? error : null;

        // The commit is the acknowledgement: the append answers the run, without a batch yet, and says the dispatch failed.
        Assert.Equal(0, (await dying.AppendAsync(submission)).DriverBatchId);
        Assert.IsType<InjectedCrash>(reported);
        Assert.Empty(await BatchesAsync());
        Assert.Equal(0, (await Log.FindAsync(submission.Run.ArGuid))!.DriverBatchId);

        Assert.Equal(1, await Log.DispatchPendingAsync());
        var batch = Assert.Single(await BatchesAsync(submission.Run.ArGuid));
        Assert.Equal(batch.Id, (await Log.FindAsync(submission.Run.ArGuid))!.DriverBatchId);
        Assert.Equal(0, await Log.DispatchPendingAsync());
        Assert.Single(await BatchesAsync());
    }

    /// <summary>Killed after the batch was created but before its id was recorded: the restart finds that batch rather than making another.</summary>
    [BackendFact]
    public async Task A_run_whose_dispatch_died_after_the_batch_keeps_its_one_batch_on_restart()
    {
        var dying = new PostgresRunLog(Database!, new FailingTarget(new HomeDriverBatches(Deployment), createFirst: true));
        var submission = Submission();

        Assert.Equal(0, (await dying.AppendAsync(submission)).DriverBatchId);
        var created = Assert.Single(await BatchesAsync());
        Assert.Equal(0, (await Log.FindAsync(submission.Run.ArGuid))!.DriverBatchId);

        Assert.Equal(1, await Log.DispatchPendingAsync());
        Assert.Equal(created.Id, Assert.Single(await BatchesAsync()).Id);
        Assert.Equal(created.Id, (await Log.FindAsync(submission.Run.ArGuid))!.DriverBatchId);
        // The executor can scope the batch: the home holds the run's entry as sealed, and it verifies.
        var scope = BatchScope.Of(new BatchSpec { Name = "x", ArGuid = submission.Run.ArGuid, TmpRoot = "/tmp", Jobs = [] }, Deployment.LoggedRuns);
        Assert.Equal(submission.Run.ArGuid, scope.Run!.ArGuid);
    }

    /// <summary>
    /// Red team: whoever reaches the database rewrites the driver batch a logged run waits for in the
    /// outbox (another command), or queues a run of their own. The dispatcher turned any such row into
    /// a batch the executor ran; now it makes one only of a row the runner sealed as it queued it.
    /// </summary>
    [BackendFact]
    public async Task An_outbox_row_rewritten_or_written_in_the_database_makes_no_batch()
    {
        var dying = new PostgresRunLog(Database!, new FailingTarget(new HomeDriverBatches(Deployment), createFirst: false));
        var submission = Submission();
        Assert.Equal(0, (await dying.AppendAsync(submission)).DriverBatchId);
        await using (var connection = await Database!.OpenAsync())
        {
            await using var rewrite = new NpgsqlCommand("""
                UPDATE run_dispatch SET driver_batch = replace(driver_batch, '"commands":["', '"commands":["echo forged; ') WHERE ar_guid = $1
                """, connection);
            rewrite.Parameters.AddWithValue(submission.Run.ArGuid);
            Assert.Equal(1, await rewrite.ExecuteNonQueryAsync());
            // The same row again under a run of its own, its seal copied.
            var copied = Guid.NewGuid().ToString();
            foreach (var sql in new[]
            {
                "INSERT INTO audit_log (ar_guid, timestamp_ms, user_email, dataset, access_level, entry, prev_hash, entry_hash, seal) " +
                "SELECT $2, timestamp_ms, user_email, dataset, access_level, replace(entry, $1, $2), prev_hash, entry_hash, seal FROM audit_log WHERE ar_guid = $1",
                "INSERT INTO run_configs (ar_guid, toml) SELECT $2, toml FROM run_configs WHERE ar_guid = $1",
                "INSERT INTO run_dispatch (ar_guid, driver_batch, seal) SELECT $2, replace(driver_batch, $1, $2), seal FROM run_dispatch WHERE ar_guid = $1",
            })
            {
                await using var copy = new NpgsqlCommand(sql, connection);
                copy.Parameters.AddWithValue(submission.Run.ArGuid);
                copy.Parameters.AddWithValue(copied);
                Assert.Equal(1, await copy.ExecuteNonQueryAsync());
            }
        }

        var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Log.DispatchPendingAsync());

        Assert.Equal("RunEntryNotSealed", refused.ErrorId);
        Assert.Empty(await BatchesAsync());
    }

    /// <summary>One run whose batch can never be made (its home refuses it) does not keep the runs after it waiting.</summary>
    [BackendFact]
    public async Task A_run_whose_dispatch_keeps_failing_does_not_hold_up_the_runs_logged_after_it()
    {
        var dying = new PostgresRunLog(Database!, new FailingTarget(new HomeDriverBatches(Deployment), createFirst: false));
        var stuck = Submission();
        var next = Submission();
        Assert.Equal(0, (await dying.AppendAsync(stuck)).DriverBatchId);
        Assert.Equal(0, (await dying.AppendAsync(next)).DriverBatchId);
        var refusing = new PostgresRunLog(Database!, new FailingFor(stuck.Run.ArGuid, new HomeDriverBatches(Deployment)));

        await Assert.ThrowsAsync<InjectedCrash>(() => refusing.DispatchPendingAsync());

        Assert.Empty(await BatchesAsync(stuck.Run.ArGuid));
        var batch = Assert.Single(await BatchesAsync(next.Run.ArGuid));
        Assert.Equal(batch.Id, (await Log.FindAsync(next.Run.ArGuid))!.DriverBatchId);
        Assert.Equal(0, (await Log.FindAsync(stuck.Run.ArGuid))!.DriverBatchId);
    }

    /// <summary>Stop-Batch on a run whose dispatch is pending: no dispatch, at the next retry or start, ever makes its batch.</summary>
    [BackendFact]
    public async Task A_run_cancelled_before_its_driver_batch_exists_never_gets_one()
    {
        var dying = new PostgresRunLog(Database!, new FailingTarget(new HomeDriverBatches(Deployment), createFirst: false));
        var cancelled = Submission();
        var next = Submission();
        Assert.Equal(0, (await dying.AppendAsync(cancelled)).DriverBatchId);
        Assert.Equal(0, (await dying.AppendAsync(next)).DriverBatchId);

        Assert.False(await Log.IsDriverBatchWithheldAsync(cancelled.Run.ArGuid));
        Assert.True(await Log.CancelPendingDispatchAsync(cancelled.Run.ArGuid));
        Assert.True(await Log.CancelPendingDispatchAsync(cancelled.Run.ArGuid));
        Assert.True(await Log.IsDriverBatchWithheldAsync(cancelled.Run.ArGuid));
        Assert.False(await Log.IsDriverBatchWithheldAsync(next.Run.ArGuid));

        Assert.Equal(1, await Log.DispatchPendingAsync());
        Assert.Empty(await BatchesAsync(cancelled.Run.ArGuid));
        Assert.Single(await BatchesAsync(next.Run.ArGuid));
        Assert.Equal(0, await Log.DispatchPendingAsync());
        Assert.Empty(await BatchesAsync(cancelled.Run.ArGuid));
        Assert.Equal(0, (await Log.FindAsync(cancelled.Run.ArGuid))!.DriverBatchId);
        // Queries say so on the run, in one read of a page: the cancelled run is withheld, the dispatched one is not.
        var listed = await Log.QueryAsync(new LogQuery()).ToDictionaryAsync(run => run.ArGuid);
        Assert.True(listed[cancelled.Run.ArGuid].DriverBatchWithheld);
        Assert.False(listed[next.Run.ArGuid].DriverBatchWithheld);
        Assert.True((await Log.FindAsync(cancelled.Run.ArGuid))!.DriverBatchWithheld);
    }

    /// <summary>A cancel landing while a dispatch is making the batch (after the batch, before its id is recorded): the dispatch cancels the batch at once.</summary>
    [BackendFact]
    public async Task A_cancel_racing_a_dispatch_has_the_batch_it_made_cancelled_at_once()
    {
        var dying = new PostgresRunLog(Database!, new FailingTarget(new HomeDriverBatches(Deployment), createFirst: false));
        var submission = Submission();
        Assert.Equal(0, (await dying.AppendAsync(submission)).DriverBatchId);
        var racing = new PostgresRunLog(Database!, new CancelledWhileCreating(new HomeDriverBatches(Deployment), () => Log));

        Assert.Equal(1, await racing.DispatchPendingAsync());

        var batch = Assert.Single(await BatchesAsync(submission.Run.ArGuid));
        Assert.True(batch.CancelRequested);
        Assert.False(await Log.CancelPendingDispatchAsync(submission.Run.ArGuid));
        Assert.False(await Log.IsDriverBatchWithheldAsync(submission.Run.ArGuid));
    }

    [BackendFact]
    public async Task An_unreachable_database_is_DatabaseUnavailable()
    {
        await using var nowhere = new PostgresDatabase("Host=127.0.0.1;Port=1;Username=x;Timeout=2");
        var log = new PostgresRunLog(nowhere, new HomeDriverBatches(Deployment));

        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => log.AppendAsync(Submission()));

        Assert.Equal("DatabaseUnavailable", error.ErrorId);
        Assert.Equal(ErrorKind.ResourceUnavailable, error.Kind);
        Assert.Empty(await BatchesAsync());
    }

    private sealed class InjectedCrash() : Exception("injected: the dispatcher died here");

    private sealed class FailingFor(string arGuid, IDriverBatchTarget inner) : IDriverBatchTarget
    {
        public RunEntrySeal Seal => inner.Seal;

        public Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default) =>
            run.ArGuid == arGuid ? throw new InjectedCrash() : inner.EnsureDriverBatchAsync(run, configToml, driverBatch, cancellationToken);

        public Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default) => inner.CancelDriverBatchAsync(arGuid, cancellationToken);
    }

    /// <summary>Makes the batch, then a user's Stop-Batch lands before the dispatcher records it.</summary>
    private sealed class CancelledWhileCreating(IDriverBatchTarget inner, Func<IRunLog> log) : IDriverBatchTarget
    {
        public RunEntrySeal Seal => inner.Seal;

        public async Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default)
        {
            var id = await inner.EnsureDriverBatchAsync(run, configToml, driverBatch, cancellationToken);
            Assert.True(await log().CancelPendingDispatchAsync(run.ArGuid, cancellationToken));
            return id;
        }

        public Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default) => inner.CancelDriverBatchAsync(arGuid, cancellationToken);
    }

    private sealed class FailingTarget(IDriverBatchTarget inner, bool createFirst) : IDriverBatchTarget
    {
        public RunEntrySeal Seal => inner.Seal;

        public async Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default)
        {
            if (createFirst) await inner.EnsureDriverBatchAsync(run, configToml, driverBatch, cancellationToken);
            throw new InjectedCrash();
        }

        public Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default) => inner.CancelDriverBatchAsync(arGuid, cancellationToken);
    }
}

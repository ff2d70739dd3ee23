using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// Red team of the server whose home keeps batches in PostgreSQL ([batches] database): a member of
/// fewgenomes at test only, with a valid token, who commits any script to the allowlisted repository.
/// Each test asserts an attack fails. The home runs its jobs under bubblewrap (a missing sandbox fails
/// the run, never runs it unsandboxed), as a lab's would.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class PostgresRedTeamTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Mallory = "mallory@example.org";
    private const string Bob = "bob@example.org";
    private readonly ServerWorld _world = new("ar-pgr-", batchesInPostgres: true);
    // The cluster's real password, in the home's [batches] connection string and (in one test) in PGPASSWORD.
    private string Password => new NpgsqlConnectionStringBuilder(_world.ConnectionString).Password!;
    private string _main = "";

    public async Task InitializeAsync()
    {
        // What a hostile driver does: print its environment, try to read the home's settings (the
        // [batches] connection string) and to open a TCP connection to PostgreSQL on the host's loopback.
        _world.Git.CommitFile("scripts/spy.sh", """
            #!/bin/bash
            env
            cat -- "$1" 2>&1 || true
            if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then echo POSTGRES-REACHABLE; else echo POSTGRES-UNREACHABLE; fi
            """ + "\n", executable: true);
        _main = _world.Git.Head();
        _world.Git.Push();
        await _world.StartAsync(postgres, $"""
            [datasets.fewgenomes]
            repositories = ["{_world.Git.OriginPath}"]

            [datasets.fewgenomes.members]
            test = ["{Mallory}"]

            [datasets.othergenomes]
            repositories = ["{_world.Git.OriginPath}"]

            [datasets.othergenomes.members]
            test = ["{Bob}"]
            """, SandboxMode.Bubblewrap);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    private SubmissionFacts Facts(params string[] arguments) => new()
    {
        Dataset = "fewgenomes",
        AccessLevel = AccessLevel.Test,
        Description = "spy",
        OutputDir = "out",
        Script = "spy.sh",
        ScriptArguments = [.. arguments],
        RepositoryUrl = _world.Git.OriginPath,
        Commit = _main,
        Cwd = "scripts",
    };

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_world.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// The server's process holds the database's password (PGPASSWORD, or AR_SERVER__database__connection_string
    /// as the server's settings document); the executor it starts inherits its environment, and every job
    /// inherited the executor's. A driver printed it. Now neither reaches the executor nor a job, the
    /// home's settings file is not in the sandbox, and the host's PostgreSQL is not reachable from it.
    /// </summary>
    [BackendFact]
    public async Task A_runs_driver_gets_neither_the_databases_password_nor_a_connection_to_it()
    {
        var port = new NpgsqlConnectionStringBuilder(_world.ConnectionString).Port;
        using var client = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Mallory)).Token));
        RunRecord run;
        // The executor is started (by this process, as by a server's) on the first submission: it takes the environment as it is then.
        Environment.SetEnvironmentVariable("PGPASSWORD", Password);
        try
        {
            run = await client.SubmitRunAsync(await client.PlanRunAsync(Facts(_world.Home!.Home.SettingsPath, port.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", null);
        }
        Assert.True(run.DriverBatchId > 0, "the run was answered without its driver batch");
        BatchProgress? last = null;
        await foreach (var progress in client.WatchAsync([run.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) }))
            last = progress;
        var batch = Assert.Single(last!.Batches);
        Assert.True(batch.State == BatchState.Succeeded, $"driver batch {batch.Id} ended {batch.State}. Executor log:\n{_world.Home.ExecutorLog()}");

        var stdout = new List<string>();
        await foreach (var line in client.ReadLogAsync(run.DriverBatchId, 1, 1, LogStream.Stdout, follow: false)) stdout.Add(line);
        var output = string.Join('\n', stdout);
        Assert.Contains("POSTGRES-", output);
        Assert.DoesNotContain(Password, output);
        Assert.DoesNotContain("PGPASSWORD", output);
        Assert.Contains("POSTGRES-UNREACHABLE", output);
    }

    /// <summary>
    /// A NUL in a script argument: PostgreSQL's text cannot hold one, so the run was logged and answered,
    /// and then its driver batch could never be made; the dispatcher retried it for ever, and every
    /// later start of the server failed on it before listening. No argument, variable or file name can
    /// carry a NUL anyway (exec's strings end at one), so the submission is refused and nothing written.
    /// </summary>
    [BackendFact]
    public async Task A_NUL_in_a_submission_is_refused_with_nothing_logged_and_the_server_still_starts()
    {
        using var http = _world.Server!.Client((await _world.Server.IssueAsync(Mallory)).Token);

        // Straight to the submission (a hostile client need not ask for a plan first), and as a plan.
        foreach (var route in new[] { "/api/v1/runs", "/api/v1/runs/plan" })
        {
            using var body = new StringContent(Facts("before\0after").ToJson(), System.Text.Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(route, body);
            var problem = await ProblemAssert.IsProblemAsync(response, 400, "InvalidSubmission", ErrorKind.InvalidData);
            Assert.Contains("scriptArguments[0]", problem.GetProperty("detail").GetString());
        }
        Assert.Equal(0, await CountAsync("SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM run_dispatch) + (SELECT count(*) FROM batches)"));
        await using var restarted = await RunningServer.StartAsync(_world.ConnectionString, null, "--runner:home=" + _world.Root);
    }

    /// <summary>
    /// The home kept a copy of each server entry whose driver batch it ran, and Test-AnalysisLog
    /// -RunnerHome checked each copy only on its own. The chain is not keyed, so a row written into
    /// runner.db (another dataset, full) with its hash computed passed as a copy, and the executor
    /// scoped batches by copies. Now the home gets no copies (the run and its batch are one transaction
    /// in PostgreSQL, where the executor reads the run); a copy found there must be in the server's log,
    /// hash and all, and is never a batch's scope.
    /// </summary>
    [BackendFact]
    public async Task A_forged_copy_in_the_homes_audit_log_fails_Test_AnalysisLog_and_scopes_no_batch()
    {
        using var client = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Mallory)).Token));
        var run = await client.SubmitRunAsync(await client.PlanRunAsync(Facts("/nonexistent", "1")));
        Assert.True(run.DriverBatchId > 0, "the run was answered without its driver batch");
        var deployment = Deployment.Open(_world.Home!.Home);
        // The run and its batch are PostgreSQL's alone: nothing was copied into the home.
        Assert.Empty(deployment.HomeAuditLog.ReadCopies());
        var honest = await AuditLogCheck.VerifyAsync(deployment);
        Assert.True(honest.Valid, honest.Reason);
        Assert.Equal(0, honest.Copies);
        var genuine = deployment.LoggedRuns.Find(run.ArGuid)!;
        AuditChain.CheckEntry(genuine);

        var forged = genuine with
        {
            ArGuid = Guid.NewGuid().ToString(), Dataset = "otherdataset", AccessLevel = AccessLevel.Full, User = "victim@example.org", EntryHash = null,
        };
        forged = forged with { EntryHash = AuditChain.EntryHash(forged.PreviousHash!, forged) };
        AuditChain.CheckEntry(forged);
        deployment.Database.InTransaction((connection, transaction) =>
        {
            deployment.HomeAuditLog.Replicate(forged, connection, transaction);
            return true;
        });

        var verdict = await AuditLogCheck.VerifyAsync(Deployment.Open(_world.Home.Home));

        Assert.False(verdict.Valid, "a forged copy passed Test-AnalysisLog");
        Assert.Equal(forged.ArGuid, verdict.FirstAlteredArGuid);
        Assert.Contains("server's log", verdict.Reason);
        Assert.Equal(1, verdict.Copies);
        // Nor does the executor take it for a run: a batch claiming it gets no scope.
        var claim = new BatchSpec { Name = "forged", ArGuid = forged.ArGuid, TmpRoot = "/tmp", Jobs = [] };
        var refused = Assert.Throws<BatchValidationException>(() => BatchScope.Of(claim, Deployment.Open(_world.Home.Home).LoggedRuns));
        Assert.Equal("RunNotFound", refused.ErrorId);
    }

    /// <summary>
    /// A job that reaches PostgreSQL (a sandbox sharing the host's network, on a database an admin
    /// let in without a password: allow_without_password) writes a batch of its own naming a logged
    /// run, rows copied from that run's real driver batch (seals and all) with another command. Batch
    /// rows carried nothing only the runner can write, so the executor ran such a batch with the run's
    /// scope. Now the seal covers each row's ids and text: a batch row whose seal does not hold for its
    /// id is never loaded, so its job never starts and its command never runs.
    /// </summary>
    [BackendFact]
    public async Task A_batch_written_straight_into_PostgreSQL_is_not_run()
    {
        using var client = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Mallory)).Token));
        var run = await client.SubmitRunAsync(await client.PlanRunAsync(Facts("/nonexistent", "1")));
        Assert.True(run.DriverBatchId > 0, "the run was answered without its driver batch");
        await foreach (var _ in client.WatchAsync([run.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) })) { }

        long forged;
        await using (var connection = new NpgsqlConnection(_world.ConnectionString))
        {
            await connection.OpenAsync();
            await using var batch = new NpgsqlCommand("""
                INSERT INTO batches (name, ar_guid, attributes, config_path, tmp_root, spec, state, cancel_requested, created, total_jobs, seal)
                SELECT name, ar_guid, attributes, config_path, tmp_root, spec, 'Running', false, now(), total_jobs, seal FROM batches WHERE id = $1
                RETURNING id
                """, connection);
            batch.Parameters.AddWithValue(run.DriverBatchId);
            forged = (long)(await batch.ExecuteScalarAsync())!;
            await using var jobs = new NpgsqlCommand("""
                INSERT INTO jobs (batch_id, job_id, name, state, attempt, max_attempts, command, parents, cpu, memory, image, always_run,
                                  preemptible, attributes, spec, seal)
                SELECT $2, job_id, name, 'Ready', 1, 1, 'echo FORGED-RAN', '[]', cpu, memory, image, always_run, preemptible, attributes,
                       jsonb_set(spec::jsonb, '{commands}', '["echo FORGED-RAN"]')::text, seal
                FROM jobs WHERE batch_id = $1
                """, connection);
            jobs.Parameters.AddWithValue(run.DriverBatchId);
            jobs.Parameters.AddWithValue(forged);
            Assert.Equal(1, await jobs.ExecuteNonQueryAsync());
        }
        var home = Deployment.Open(_world.Home!.Home);
        // A run submitted after it: once its driver batch has ended, the executor has loaded (or passed over) every batch before it.
        var later = await client.SubmitRunAsync(await client.PlanRunAsync(Facts("/nonexistent", "1")));
        await foreach (var _ in client.WatchAsync([later.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) })) { }

        // The batch row's seal does not hold for its id, so the executor never loaded it: its job never started.
        Assert.Equal(BatchState.Running, (await home.Batches.GetBatchAsync(forged))!.State);
        var job = Assert.Single(await home.Batches.GetJobsAsync(forged));
        Assert.Equal((JobState.Ready, (DateTimeOffset?)null), (job.State, job.Started));
        Assert.Empty(await home.Batches.GetAttemptsAsync(forged, 1));
        Assert.True(later.DriverBatchId > forged, "the later run's batch was not submitted after the forged one");
        var refused = await Assert.ThrowsAsync<ServerProblemException>(() => client.GetJobsAsync(forged));
        Assert.Equal("NotTheBatchAuthor", refused.ErrorId);
    }

    /// <summary>
    /// A job of Mallory's that reaches PostgreSQL re-points Bob's driver batch (another dataset) at
    /// Mallory's run (the ar_guid and attributes columns) and rewrites Bob's entry to name fewgenomes,
    /// the test level and Mallory, its hash recomputed. The server decided whose a batch is by those
    /// columns and whose a run is by that entry, so Mallory read Bob's batch, jobs and logs through the
    /// API and could cancel, resume or remove them. Now both come from what the runner sealed.
    /// </summary>
    [BackendFact]
    public async Task Another_datasets_batch_re_pointed_at_my_run_in_PostgreSQL_is_still_not_mine()
    {
        using var bob = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Bob)).Token));
        var theirs = await bob.SubmitRunAsync(await bob.PlanRunAsync(Facts("/nonexistent", "1") with { Dataset = "othergenomes" }));
        using var malloryClient = new HttpRunnerClient(new ServerConnection(_world.Server.Address, (await _world.Server.IssueAsync(Mallory)).Token));
        var mine = await malloryClient.SubmitRunAsync(await malloryClient.PlanRunAsync(Facts("/nonexistent", "1")));
        Assert.True(theirs.DriverBatchId > 0 && mine.DriverBatchId > 0, "a run was answered without its driver batch");
        await foreach (var _ in bob.WatchAsync([theirs.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) })) { }
        await foreach (var _ in malloryClient.WatchAsync([mine.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) })) { }
        var batch = theirs.DriverBatchId;

        var entry = Deployment.Open(_world.Home!.Home).LoggedRuns.Find(theirs.ArGuid)!;
        var claimed = entry with { Dataset = "fewgenomes", AccessLevel = AccessLevel.Test, User = Mallory, EntryHash = null };
        claimed = claimed with { EntryHash = AuditChain.EntryHash(claimed.PreviousHash!, claimed) };
        await using (var connection = new NpgsqlConnection(_world.ConnectionString))
        {
            await connection.OpenAsync();
            await using var repoint = new NpgsqlCommand("""
                UPDATE batches SET ar_guid = $2, attributes = '{"author":"mallory@example.org","dataset":"fewgenomes","access_level":"test"}'
                WHERE id = $1
                """, connection);
            repoint.Parameters.AddWithValue(batch);
            repoint.Parameters.AddWithValue(mine.ArGuid);
            Assert.Equal(1, await repoint.ExecuteNonQueryAsync());
            await using var rewrite = new NpgsqlCommand("""
                UPDATE audit_log SET entry = $2, entry_hash = $3, dataset = 'fewgenomes', access_level = 'test', user_email = $4 WHERE ar_guid = $1
                """, connection);
            rewrite.Parameters.AddWithValue(theirs.ArGuid);
            rewrite.Parameters.AddWithValue(System.Text.Json.JsonSerializer.Serialize(
                claimed with { PreviousHash = null, EntryHash = null, DriverBatchId = 0, Url = null }, ApiJson.Options));
            rewrite.Parameters.AddWithValue(claimed.EntryHash!);
            rewrite.Parameters.AddWithValue(Mallory);
            Assert.Equal(1, await rewrite.ExecuteNonQueryAsync());
        }

        using var mallory = _world.Server.Client((await _world.Server.IssueAsync(Mallory)).Token);
        foreach (var route in new[]
        {
            RunRoutes.Batch(batch), $"/api/v1/batches/{batch}/jobs/1", RunRoutes.Attempts(batch, 1), RunRoutes.Log(batch, 1, 1, "stdout"),
            RunRoutes.Config(theirs.ArGuid), $"{RunRoutes.Runs}?arGuid={theirs.ArGuid}",
        })
        {
            using var response = await mallory.GetAsync(route);
            Assert.False(response.IsSuccessStatusCode, $"GET {route} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        Assert.Equal([mine.DriverBatchId], (await malloryClient.FindBatchesAsync(new BatchQuery { ArGuid = mine.ArGuid })).Select(found => found.Id));
        foreach (var route in new[] { RunRoutes.ResumeBatch(batch), RunRoutes.CancelBatch(batch), RunRoutes.CancelRun(theirs.ArGuid) })
        {
            using var response = await mallory.PostAsync(route, null);
            Assert.False(response.IsSuccessStatusCode, $"POST {route} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        using (var removal = await mallory.DeleteAsync(RunRoutes.Batch(batch)))
            Assert.False(removal.IsSuccessStatusCode, $"DELETE answered {(int)removal.StatusCode}");
        Assert.NotNull(await Deployment.Open(_world.Home.Home).Batches.GetBatchAsync(batch));
    }

    /// <summary>
    /// Bob's run of another dataset has its batch, job and attempt rows in the same PostgreSQL tables:
    /// none of the routes that read or change them through the batch store answers Mallory about it.
    /// </summary>
    [BackendFact]
    public async Task Another_datasets_batches_jobs_and_logs_in_PostgreSQL_are_not_readable_nor_changeable()
    {
        using var bob = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Bob)).Token));
        var theirs = await bob.SubmitRunAsync(await bob.PlanRunAsync(Facts("/nonexistent", "1") with { Dataset = "othergenomes" }));
        Assert.True(theirs.DriverBatchId > 0, "bob's run was answered without its driver batch");
        await foreach (var _ in bob.WatchAsync([theirs.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) })) { }
        using var mallory = _world.Server.Client((await _world.Server.IssueAsync(Mallory)).Token);
        var batch = theirs.DriverBatchId;

        foreach (var route in new[]
        {
            RunRoutes.Batch(batch), $"/api/v1/batches/{batch}/jobs/1", RunRoutes.Attempts(batch, 1), RunRoutes.Log(batch, 1, 1, "stdout"),
            $"{RunRoutes.Batches}?arGuid={theirs.ArGuid}", RunRoutes.Config(theirs.ArGuid), $"{RunRoutes.Runs}?arGuid={theirs.ArGuid}&dataset=othergenomes",
        })
        {
            using var response = await mallory.GetAsync(route);
            Assert.True(response.StatusCode is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.NotFound,
                $"GET {route} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        using (var listing = await mallory.GetAsync(RunRoutes.Batches))
        {
            var body = await listing.Content.ReadAsStringAsync();
            Assert.True(listing.IsSuccessStatusCode, body);
            Assert.DoesNotContain(theirs.ArGuid, body);
        }
        using (var log = await mallory.GetAsync($"{RunRoutes.Runs}?arGuid={theirs.ArGuid}"))
            Assert.DoesNotContain(theirs.ArGuid, await log.Content.ReadAsStringAsync());
        foreach (var route in new[] { RunRoutes.CancelBatch(batch), RunRoutes.ResumeBatch(batch), RunRoutes.CancelRun(theirs.ArGuid) })
        {
            using var response = await mallory.PostAsync(route, null);
            Assert.True(response.StatusCode is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.NotFound,
                $"POST {route} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        using (var removal = await mallory.DeleteAsync(RunRoutes.Batch(batch)))
            Assert.True(removal.StatusCode is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.NotFound, $"DELETE answered {(int)removal.StatusCode}");
        Assert.NotNull(await Deployment.Open(_world.Home!.Home).Batches.GetBatchAsync(batch));
    }

    [BackendFact]
    public async Task A_token_written_revived_or_promoted_in_PostgreSQL_is_401_like_an_unknown_one()
    {
        var server = _world.Server!;
        var mallory = await server.IssueAsync(Mallory);
        var bob = await server.IssueAsync(Bob);
        await server.Tokens.RevokeAsync(bob.Id);
        var forged = Core.Tokens.TokenSecret.New();
        await using (var connection = new NpgsqlConnection(_world.ConnectionString))
        {
            await connection.OpenAsync();
            // An admin token whose secret the job knows; Bob's revocation undone; Mallory made an admin.
            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new("INSERT INTO api_tokens (id, token_hash, user_email, is_admin, created_at) VALUES ('00000000000000ff', $1, 'root@example.org', true, now())")
                        { Parameters = { new() { Value = Core.Tokens.TokenSecret.Hash(forged) } } },
                    new("UPDATE api_tokens SET revoked_at = NULL WHERE id = $1") { Parameters = { new() { Value = bob.Id } } },
                    new("UPDATE api_tokens SET is_admin = true WHERE id = $1") { Parameters = { new() { Value = mallory.Id } } },
                },
            };
            await write.ExecuteNonQueryAsync();
        }

        using var unknown = await server.Client(Core.Tokens.TokenSecret.New()).GetAsync(ApiRoutes.WhoAmI);
        var expected = await ProblemAssert.IsProblemAsync(unknown, 401, "TokenInvalid", ErrorKind.AuthenticationError);
        foreach (var secret in new[] { forged, bob.Token, mallory.Token })
        foreach (var route in new[] { ApiRoutes.WhoAmI, ApiRoutes.AdminTokens })
        {
            using var response = await server.Client(secret).GetAsync(route);
            var problem = await ProblemAssert.IsProblemAsync(response, 401, "TokenInvalid", ErrorKind.AuthenticationError);
            Assert.Equal(expected.GetProperty("detail").GetString(), problem.GetProperty("detail").GetString());
            Assert.Equal(unknown.Headers.WwwAuthenticate.ToString(), response.Headers.WwwAuthenticate.ToString());
        }
    }
}

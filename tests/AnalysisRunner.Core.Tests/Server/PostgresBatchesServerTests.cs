using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.Batch.Store;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// A server over a runner home whose settings put its batches in the server's PostgreSQL database
/// ([batches] database): a run submitted over HTTP gets its driver batch in PostgreSQL, the home's
/// executor runs it from there to completion, and the home's runner.db holds no batch, job or attempt.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class PostgresBatchesServerTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Alice = "alice@example.org";
    private readonly GitFixture _git = new();
    private readonly string _root = Path.Combine("/tmp", "ar-pgb-" + Guid.NewGuid().ToString("N")[..10]);
    private string _main = "";
    private string _connectionString = "";
    private TestHome? _home;
    private RunningServer? _server;

    public async Task InitializeAsync()
    {
        _git.CommitFile("scripts/hello.sh", "#!/bin/bash\necho \"Hello, $1!\"\n", executable: true);
        _main = _git.Head();
        _git.Push();
        Directory.CreateDirectory(_root);
        File.WriteAllText(Path.Combine(_root, "registry.toml"), $"""
            default_image = "registry.example.org/approved/driver:1"
            image_prefixes = ["registry.example.org/approved/"]

            [datasets.fewgenomes]
            repositories = ["{_git.OriginPath}"]

            [datasets.fewgenomes.members]
            test = ["{Alice}"]
            """);
        // Owns the home: stops the executor the server starts for it, and deletes it.
        _home = new TestHome(_root, sandbox: "none");
        if (PostgresCluster.MissingReason is not null) return;
        _connectionString = await postgres.CreateDatabaseAsync();
        await File.AppendAllTextAsync(_home.Home.SettingsPath, $"\n[batches]\ndatabase = '{_connectionString}'\n");
        _server = await RunningServer.StartAsync(_connectionString, null, "--runner:home=" + _root);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        // After the executor (stopped by the home) is done with the database.
        _home?.Dispose();
        if (_connectionString.Length > 0) await Deployment.CloseBatchDatabaseAsync(_connectionString);
        _git.Dispose();
    }

    private async Task<long> CountAsync(string sql, string arGuid)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(arGuid);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [BackendFact]
    public async Task A_run_submitted_to_the_server_runs_its_driver_batch_from_PostgreSQL_and_leaves_nothing_in_the_homes_database()
    {
        using var client = new HttpRunnerClient(new ServerConnection(_server!.Address, (await _server.IssueAsync(Alice)).Token));

        var run = await client.SubmitRunAsync(await client.PlanRunAsync(new SubmissionFacts
        {
            Dataset = "fewgenomes",
            AccessLevel = AccessLevel.Test,
            Description = "hello",
            OutputDir = "out",
            Script = "hello.sh",
            ScriptArguments = ["world"],
            RepositoryUrl = _git.OriginPath,
            Commit = _main,
            Cwd = "scripts",
        }));
        Assert.True(run.DriverBatchId > 0, "the run was answered without its driver batch");
        BatchProgress? last = null;
        try
        {
            await foreach (var progress in client.WatchAsync([run.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) }))
                last = progress;
        }
        catch (AnalysisRunnerException timedOut) when (timedOut.ErrorId == "WaitTimedOut")
        {
            throw new TimeoutException($"{timedOut.Message} Executor log:\n{_home!.ExecutorLog()}", timedOut);
        }

        var batch = Assert.Single(last!.Batches);
        Assert.True(batch.State == BatchState.Succeeded, $"driver batch {batch.Id} ended {batch.State}. Executor log:\n{_home!.ExecutorLog()}");
        var stdout = new List<string>();
        await foreach (var line in client.ReadLogAsync(run.DriverBatchId, 1, 1, LogStream.Stdout, follow: false)) stdout.Add(line);
        Assert.Contains("Hello, world!", stdout);
        // The rows are PostgreSQL's, as the home's own store (the executor's and the cmdlets') sees them.
        var store = Deployment.Open(_home!.Home).Batches;
        Assert.IsType<PostgresBatchStore>(store);
        Assert.Equal(run.DriverBatchId, Assert.Single(store.FindBatches(new BatchQuery { ArGuid = run.ArGuid })).Id);
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM batches WHERE ar_guid = $1 AND state = 'Succeeded'", run.ArGuid));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.ar_guid = $1 AND j.state = 'Succeeded'", run.ArGuid));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM attempts a JOIN batches b ON b.id = a.batch_id WHERE b.ar_guid = $1 AND a.exit_code = 0", run.ArGuid));
        Assert.Equal(0, HomeBatchRows.Count(_home.Home));
        // And the run in the log points at it.
        Assert.Equal(run.DriverBatchId, Assert.Single((await client.QueryAuditLogAsync(new Core.Log.LogQuery { ArGuid = run.ArGuid }, null)).Runs).DriverBatchId);
    }
}

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
    private readonly ServerWorld _world = new("ar-pgb-", batchesInPostgres: true);
    private string _main = "";

    public async Task InitializeAsync()
    {
        _main = _world.CommitHello();
        await _world.StartAsync(postgres, _world.Dataset("fewgenomes", Alice), "none");
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    private async Task<long> CountAsync(string sql, string arGuid)
    {
        await using var connection = new NpgsqlConnection(_world.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(arGuid);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [BackendFact]
    public async Task A_run_submitted_to_the_server_runs_its_driver_batch_from_PostgreSQL_and_leaves_nothing_in_the_homes_database()
    {
        using var client = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Alice)).Token));

        var run = await client.SubmitRunAsync(await client.PlanRunAsync(_world.HelloFacts(_main)));
        Assert.True(run.DriverBatchId > 0, "the run was answered without its driver batch");
        BatchProgress? last = null;
        try
        {
            await foreach (var progress in client.WatchAsync([run.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) }))
                last = progress;
        }
        catch (AnalysisRunnerException timedOut) when (timedOut.ErrorId == "WaitTimedOut")
        {
            throw new TimeoutException($"{timedOut.Message} Executor log:\n{_world.Home!.ExecutorLog()}", timedOut);
        }

        var batch = Assert.Single(last!.Batches);
        Assert.True(batch.State == BatchState.Succeeded, $"driver batch {batch.Id} ended {batch.State}. Executor log:\n{_world.Home!.ExecutorLog()}");
        var stdout = new List<string>();
        await foreach (var line in client.ReadLogAsync(run.DriverBatchId, 1, 1, LogStream.Stdout, follow: false)) stdout.Add(line);
        Assert.Contains("Hello, world!", stdout);
        // The rows are PostgreSQL's, as the home's own store (the executor's and the cmdlets') sees them.
        var store = Deployment.Open(_world.Home!.Home).Batches;
        Assert.IsType<PostgresBatchStore>(store);
        Assert.Equal(run.DriverBatchId, Assert.Single(await store.FindBatchesAsync(new BatchQuery { ArGuid = run.ArGuid })).Id);
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM batches WHERE ar_guid = $1 AND state = 'Succeeded'", run.ArGuid));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.ar_guid = $1 AND j.state = 'Succeeded'", run.ArGuid));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM attempts a JOIN batches b ON b.id = a.batch_id WHERE b.ar_guid = $1 AND a.exit_code = 0", run.ArGuid));
        Assert.Equal(0, HomeBatchRows.Count(_world.Home.Home));
        // And the run in the log points at it.
        Assert.Equal(run.DriverBatchId, Assert.Single((await client.QueryAuditLogAsync(new Core.Log.LogQuery { ArGuid = run.ArGuid }, null)).Runs).DriverBatchId);
    }
}

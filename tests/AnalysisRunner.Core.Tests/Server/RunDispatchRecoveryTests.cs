using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tests.Web;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// The server killed between PostgreSQL's commit of a run and the creation of its driver batch (the
/// dispatcher dies by an injected failure at that point): the next server start creates exactly one
/// driver batch for the run, records it on the run, and the executor runs it.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class RunDispatchRecoveryTests(PostgresFixture postgres) : IDisposable
{
    private readonly WebWorld _world = new();

    [BackendFact]
    public async Task A_run_logged_before_a_kill_gets_one_driver_batch_that_runs_when_the_server_starts()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using (var database = new PostgresDatabase(connectionString))
        {
            await new SchemaMigrator(database).ApplyAsync(ServerSchema.Migrations);
            _world.Deployment.UseRunLog(new PostgresRunLog(database, new DiesBeforeTheBatch(new RunEntrySeal(_world.Deployment.Home))));
            // The commit is the acknowledgement: the append answers the run, its batch still to create.
            Assert.Equal(0, (await _world.AddRunAsync()).DriverBatchId);
        }
        Assert.Empty(await _world.Deployment.Batches.FindBatchesAsync(new BatchQuery()));

        await using var server = await RunningServer.StartAsync(connectionString, null, "--runner:home=" + _world.HomePath);
        var batch = Assert.Single(await _world.Deployment.Batches.FindBatchesAsync(new BatchQuery()));
        Assert.Equal(BatchState.Succeeded, _world.WaitForBatch(batch.Id).State);

        using var client = new HttpRunnerClient(new ServerConnection(server.Address, (await server.IssueAsync(WebWorld.Alice)).Token));
        var run = Assert.Single((await client.QueryAuditLogAsync(new LogQuery { Dataset = "fewgenomes" }, null)).Runs);
        Assert.Equal((batch.ArGuid, batch.Id), (run.ArGuid, run.DriverBatchId));
        Assert.Single(await _world.Deployment.Batches.FindBatchesAsync(new BatchQuery()));
    }

    public void Dispose() => _world.Dispose();

    private sealed class DispatcherKilled() : Exception("injected: the dispatcher died after the commit, before the batch");

    /// <summary>Seals as the server over this home does, so the server's start-up dispatch takes what it left.</summary>
    private sealed class DiesBeforeTheBatch(RunEntrySeal seal) : IDriverBatchTarget
    {
        public RunEntrySeal Seal => seal;

        public Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default) =>
            throw new DispatcherKilled();

        public Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default) => throw new DispatcherKilled();
    }
}

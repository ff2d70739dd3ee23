using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tests.Web;
using AnalysisRunner.Server.Runs;
using AnalysisRunner.Server.Web;
using Microsoft.Extensions.DependencyInjection;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// The commit is the acknowledgement: a driver batch that cannot be created after PostgreSQL
/// committed the run (an injected fault in the runner home) does not fail the submission, and the
/// running server's retry creates exactly one batch once the fault clears, with no restart.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class DispatchRetryTests(PostgresFixture postgres) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly WebWorld _world = new();

    [BackendFact]
    public async Task A_dispatch_failing_after_the_commit_answers_the_run_and_the_server_creates_its_one_batch_once_the_fault_clears()
    {
        await using var server = await RunningServer.StartAsync(await postgres.CreateDatabaseAsync(), null, "--runner:home=" + _world.HomePath);
        var home = server.Services.GetRequiredService<RunnerHomeAccess>().Deployment;
        var target = new FailsUntilCleared(new HomeDriverBatches(home));
        var log = new PostgresRunLog(server.Database, target);
        server.Services.GetRequiredService<RunDispatchRetry>().Watch(log);
        home.UseRunLog(log);
        _world.Deployment.UseRunLog(log);

        var run = await _world.AddRunAsync();

        Assert.Equal(0, run.DriverBatchId);
        await target.Failed.Task.WaitAsync(Deadline);
        var logged = await log.FindAsync(run.ArGuid);
        Assert.Equal((run.ArGuid, run.EntryHash, 0L), (logged?.ArGuid, logged?.EntryHash, logged?.DriverBatchId));
        Assert.Empty(await _world.Deployment.Batches.FindBatchesAsync(new BatchQuery()));
        // Submit-Analysis -Wait on the answer (batch 0): a typed "not yet", not BatchNotFound of batch 0.
        using var client = new HttpRunnerClient(new ServerConnection(server.Address, (await server.IssueAsync(WebWorld.Alice)).Token));
        var pending = await Assert.ThrowsAsync<ServerProblemException>(() => LastAsync(client.WatchRunAsync(run.ArGuid, 0, new WatchOptions())));
        Assert.Equal(("DriverBatchPending", 503, run.ArGuid), (pending.ErrorId, pending.Status, pending.Target as string));

        target.Clear();
        var batchId = await target.Created.Task.WaitAsync(Deadline);
        var batch = Assert.Single(await _world.Deployment.Batches.FindBatchesAsync(new BatchQuery()));
        Assert.Equal((run.ArGuid, batchId), (batch.ArGuid, batch.Id));
        Assert.Equal(BatchState.Succeeded, _world.WaitForBatch(batch.Id).State);
        // The same wait, once the batch exists, follows the batch the run has now.
        var ended = await LastAsync(client.WatchRunAsync(run.ArGuid, 0, new WatchOptions()));
        Assert.Equal([batch.Id], ended.Batches.Select(b => b.Id));
        // The retry records the batch on the run right after creating it.
        var deadline = DateTime.UtcNow + Deadline;
        while ((await log.FindAsync(run.ArGuid))?.DriverBatchId != batch.Id && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(batch.Id, (await log.FindAsync(run.ArGuid))?.DriverBatchId);
        Assert.Equal(0, await log.DispatchPendingAsync());
        Assert.Single(await _world.Deployment.Batches.FindBatchesAsync(new BatchQuery()));
        Assert.True(AuditChain.Verify(log.ReadChainAsync().ToBlockingEnumerable()).Valid);
    }

    /// <summary>
    /// A logged run whose driver batch can never be made (its stored batch no longer reads) threw out of
    /// the start-up dispatch, so the server never listened: one bad row kept every user out. It starts
    /// now, answers, and the other pending runs still get their batches.
    /// </summary>
    [BackendFact]
    public async Task A_run_whose_batch_cannot_be_made_does_not_keep_the_server_from_starting_nor_the_other_runs_from_their_batches()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        string broken, pending;
        await using (var first = await RunningServer.StartAsync(connectionString, null, "--runner:home=" + _world.HomePath))
        {
            var home = first.Services.GetRequiredService<RunnerHomeAccess>().Deployment;
            var log = new PostgresRunLog(first.Database, new FailsUntilCleared(new HomeDriverBatches(home)));
            home.UseRunLog(log);
            _world.Deployment.UseRunLog(log);
            broken = (await _world.AddRunAsync()).ArGuid;
            pending = (await _world.AddRunAsync()).ArGuid;
        }
        await using (var connection = new Npgsql.NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var poison = new Npgsql.NpgsqlCommand("UPDATE run_dispatch SET driver_batch = 'not a batch' WHERE ar_guid = $1", connection);
            poison.Parameters.AddWithValue(broken);
            Assert.Equal(1, await poison.ExecuteNonQueryAsync());
        }

        await using var restarted = await RunningServer.StartAsync(connectionString, null, "--runner:home=" + _world.HomePath);

        using var health = await restarted.Client().GetAsync("/healthz");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        var batches = await _world.Deployment.Batches.FindBatchesAsync(new BatchQuery());
        Assert.Equal([pending], batches.Select(batch => batch.ArGuid));
        Assert.Equal(batches[0].Id, (await new PostgresRunLog(restarted.Database, new HomeDriverBatches(_world.Deployment)).FindAsync(pending))?.DriverBatchId);
        Assert.Equal(0, (await new PostgresRunLog(restarted.Database, new HomeDriverBatches(_world.Deployment)).FindAsync(broken))?.DriverBatchId);
    }

    public void Dispose() => _world.Dispose();

    private static async Task<BatchProgress> LastAsync(IAsyncEnumerable<BatchProgress> progress)
    {
        BatchProgress? last = null;
        await foreach (var item in progress) last = item;
        return last!;
    }

    /// <summary>The runner home's batch store, failing every dispatch until the test clears the fault.</summary>
    private sealed class FailsUntilCleared(IDriverBatchTarget inner) : IDriverBatchTarget
    {
        public RunEntrySeal Seal => inner.Seal;

        private volatile bool _broken = true;

        public TaskCompletionSource Failed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<long> Created { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Clear() => _broken = false;

        public async Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default)
        {
            if (_broken)
            {
                Failed.TrySetResult();
                throw new IOException("injected: the runner home's batch store is not writable");
            }
            var id = await inner.EnsureDriverBatchAsync(run, configToml, driverBatch, cancellationToken);
            Created.TrySetResult(id);
            return id;
        }

        public Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default) => inner.CancelDriverBatchAsync(arGuid, cancellationToken);
    }
}

using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// An executor whose ledger is PostgreSQL, with the database stopped under it while a job runs: the job
/// ends during the outage, so the executor's next write fails. It waits the outage out and hands over
/// to a fresh executor, which recovers the ended job from its batch's ledger file and runs the rest of
/// the batch. Its own cluster, since stopping the shared one would fail other classes' tests.
/// </summary>
[RequiresPostgres]
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class ExecutorDatabaseOutageTests
{
    [BackendFact]
    public async Task The_executor_waits_out_a_PostgreSQL_outage_and_the_batch_still_succeeds()
    {
        await using var cluster = await PostgresCluster.CreateAsync();
        var database = await cluster.CreateDatabaseAsync();
        using var home = new TestHome();
        try
        {
            var deployment = home.WithBatchesIn(database);
            var fifo = home.Gate();
            var batchId = await deployment.Batches.SubmitAsync(home.Batch(
                TestHome.Job(0, $"cat '{fifo}' > /dev/null", "echo before"),
                TestHome.Job(1, "echo after") with { DependsOn = [0] }));
            deployment.Executor.Wake();

            // Opening the FIFO returns once the job has it open: the job is running.
            await using (var gate = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write)).WaitAsync(TimeSpan.FromSeconds(60)))
            {
                await cluster.StopAsync();
            }
            // Closing it ends the job while the database is down: the executor's write of that end fails.
            Assert.True(home.WaitUntil(() => home.ExecutorLog().Contains("waiting for the database to come back"), 60), home.ExecutorLog());
            await cluster.StartAsync();

            Assert.True(await home.WaitUntilAsync(async () => (await deployment.Batches.GetBatchAsync(batchId))?.State is BatchState.Succeeded or BatchState.Failed, 120, batchId),
                home.ExecutorLog());
            var ended = (await deployment.Batches.GetBatchAsync(batchId))!.State;
            Assert.True(ended == BatchState.Succeeded, $"batch {batchId} {ended}. Executor log:\n{home.ExecutorLog()}");
            Assert.Equal(JobState.Succeeded, (await deployment.Batches.GetJobAsync(batchId, 1))!.State);
            Assert.Equal(1, (await deployment.Batches.GetJobAsync(batchId, 1))!.Attempt);
            Assert.Contains("handing over to a fresh executor", home.ExecutorLog());
        }
        finally
        {
            await Deployment.CloseBatchDatabaseAsync(database);
        }
    }
}

using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// Red team (a skip), end to end: whoever reaches the database marks a batch's gate job Succeeded
/// before the executor has run it, so that the job behind the gate starts at once and the gate never
/// runs. The executor believes only the ends it recorded: the gate runs, and the job behind it waits.
/// </summary>
[RequiresPostgres]
[Collection(PostgresBatchCollection.Name)]
public sealed class ExecutorForgedEndTests(PostgresFixture postgres)
{
    [BackendFact]
    public async Task A_gate_marked_succeeded_in_the_database_still_runs_before_the_job_behind_it()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var home = new TestHome();
        try
        {
            var deployment = home.WithBatchesIn(database);
            var fifo = home.Gate();
            var batchId = await deployment.Batches.SubmitAsync(home.Batch(
                TestHome.Job(0, $"cat '{fifo}' > /dev/null", "echo gate"),
                TestHome.Job(1, "echo behind the gate") with { DependsOn = [0] }));
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var skip = new NpgsqlCommand(
                    $"UPDATE jobs SET state = 'Succeeded', exit_code = 0, ended = now() WHERE batch_id = {batchId} AND job_id = 1; " +
                    $"UPDATE jobs SET state = 'Ready' WHERE batch_id = {batchId} AND job_id = 2", connection);
                await skip.ExecuteNonQueryAsync();
            }
            deployment.Executor.Wake();

            // Opening the FIFO returns once the gate job has it open: the gate runs, forged end or not.
            await using (var gate = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write)).WaitAsync(TimeSpan.FromSeconds(60)))
            {
                Assert.Equal(JobState.Running, (await deployment.Batches.GetJobAsync(batchId, 1))!.State);
                Assert.Equal(JobState.Pending, (await deployment.Batches.GetJobAsync(batchId, 2))!.State);
            }

            Assert.True(await home.WaitUntilAsync(async () => (await deployment.Batches.GetBatchAsync(batchId))?.State is BatchState.Succeeded or BatchState.Failed, 60, batchId),
                home.ExecutorLog());
            Assert.Equal(BatchState.Succeeded, (await deployment.Batches.GetBatchAsync(batchId))!.State);
            Assert.Contains($"batch {batchId}: job 1 is Pending, where the store said Succeeded", home.ExecutorLog());
            var gateEnded = (await deployment.Batches.GetJobAsync(batchId, 1))!.Ended!.Value;
            var behindStarted = (await deployment.Batches.GetJobAsync(batchId, 2))!.Started!.Value;
            Assert.True(behindStarted >= gateEnded, $"the job behind the gate started at {behindStarted:O}, before the gate ended at {gateEnded:O}");
        }
        finally
        {
            await Deployment.CloseBatchDatabaseAsync(database);
        }
    }
}

using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tests.Web;

namespace AnalysisRunner.Core.Tests.Client;

/// <summary>
/// The contract of <see cref="IRunnerClient"/>: the same tests against the in-process transport and
/// against HTTP to the real server over the same runner home (alice's token), with the real executor
/// running the jobs. A transport is done when this passes.
/// </summary>
public abstract class RunnerClientContract(PostgresFixture postgres) : WebTest(postgres)
{
    protected abstract IRunnerClient Open();

    private static async Task<T> LastAsync<T>(IAsyncEnumerable<T> items)
    {
        var last = default(T);
        await foreach (var item in items) last = item;
        return last!;
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    [BackendFact]
    public async Task A_run_is_waited_for_and_its_batch_jobs_attempts_log_and_config_read()
    {
        var run = await World.AddRunAsync();
        World.Deployment.Executor.Wake();
        using var client = Open();

        var ended = await LastAsync(client.WatchRunAsync(run.ArGuid, run.DriverBatchId, new WatchOptions { Progress = true }));
        Assert.Equal([run.DriverBatchId], ended.Batches.Select(batch => batch.Id));
        Assert.Equal(BatchState.Succeeded, ended.Batches[0].State);
        Assert.Null(await client.FailureOfAsync(ended.Batches[0]));

        Assert.Equal(run.ArGuid, (await client.GetBatchAsync(run.DriverBatchId)).ArGuid);
        Assert.Equal([run.DriverBatchId], (await client.FindBatchesAsync(new BatchQuery { ArGuid = run.ArGuid })).Select(batch => batch.Id));
        var job = Assert.Single(await client.GetJobsAsync(run.DriverBatchId));
        Assert.Equal(("driver", JobState.Succeeded), (job.Name, job.State));
        Assert.Equal(0, Assert.Single(await client.GetAttemptsAsync(run.DriverBatchId, 1)).ExitCode);
        Assert.Equal(["driver"], await ToListAsync(client.ReadLogAsync(run.DriverBatchId, 1, 1, LogStream.Stdout, follow: false)));
        Assert.Equal(["driver"], await ToListAsync(client.ReadLogAsync(run.DriverBatchId, 1, 1, LogStream.Stdout, follow: true)));
        var config = await client.ReadConfigAtAsync(run.ConfigPath);
        Assert.Equal("fewgenomes", ((Tomlyn.Model.TomlTable)config["workflow"])["dataset"]);
    }

    [BackendFact]
    public async Task A_cancelled_batch_ends_cancelled_and_says_so()
    {
        var run = await World.AddRunAsync();
        using var gate = new JobGate(Path.Combine(World.HomePath, "gate"));
        var sub = await World.AddSubBatchAsync(run, gate.WaitCommand);
        await World.WaitForJobAsync(sub, 2, JobState.Running);
        using var client = Open();

        Assert.True((await client.CancelBatchAsync(sub)).CancelRequested);
        var ended = await LastAsync(client.WatchAsync([sub], new WatchOptions()));
        Assert.Equal(BatchState.Cancelled, Assert.Single(ended.Batches).State);
        Assert.Equal("BatchCancelled", (await client.FailureOfAsync(ended.Batches[0]))?.ErrorId);
    }

    [BackendFact]
    public async Task A_finished_batch_is_removed_and_then_BatchNotFound()
    {
        var run = await World.AddRunAsync();
        World.Deployment.Executor.Wake();
        World.WaitForBatch(run.DriverBatchId);
        using var client = Open();

        await client.RemoveBatchAsync(run.DriverBatchId);
        var missing = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => client.GetBatchAsync(run.DriverBatchId));
        Assert.Equal(("BatchNotFound", ErrorKind.ObjectNotFound), (missing.ErrorId, missing.Kind));
    }

    [BackendFact]
    public async Task The_audit_log_pages_by_keyset_with_nothing_twice_or_missed()
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var runs = new List<string>();
        // Three in one millisecond: the cursor's position, not the timestamp alone, separates them.
        for (var i = 0; i < 5; i++) runs.Add((await World.AddRunAsync(timestamp: i < 3 ? at : at.AddSeconds(i))).ArGuid);
        using var client = Open();

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await client.QueryAuditLogAsync(new LogQuery { Dataset = "fewgenomes", First = 2 }, cursor);
            Assert.True(page.Runs.Count <= 2);
            seen.AddRange(page.Runs.Select(run => run.ArGuid));
            cursor = page.NextCursor;
            pages++;
        } while (cursor is not null);
        Assert.Equal(3, pages);
        Assert.Equal(runs.AsEnumerable().Reverse().Take(2), seen.Take(2));
        Assert.Equal(runs.OrderBy(id => id), seen.OrderBy(id => id));
    }
}

[RequiresPostgres]
[Collection(PostgresClientCollection.Name)]
public sealed class InProcessRunnerClientTests(PostgresFixture postgres) : RunnerClientContract(postgres)
{
    protected override IRunnerClient Open() => new InProcessRunnerClient(World.Deployment);
}

[RequiresPostgres]
[Collection(PostgresClientCollection.Name)]
public sealed class HttpRunnerClientTests(PostgresFixture postgres) : RunnerClientContract(postgres)
{
    protected override IRunnerClient Open() => new HttpRunnerClient(new ServerConnection(Server.Address, AliceToken));

    [BackendFact]
    public async Task A_token_of_another_dataset_can_neither_read_wait_on_nor_cancel_a_batch()
    {
        var run = await World.AddRunAsync();
        using var gate = new JobGate(Path.Combine(World.HomePath, "gate"));
        var sub = await World.AddSubBatchAsync(run, gate.WaitCommand);
        using var bob = new HttpRunnerClient(new ServerConnection(Server.Address, BobToken));

        async Task Refused(Func<Task> call)
        {
            var refused = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(call);
            Assert.Equal(("NotADatasetMember", ErrorKind.PermissionDenied), (refused.ErrorId, refused.Kind));
        }
        await Refused(() => bob.GetBatchAsync(sub));
        await Refused(() => bob.GetJobsAsync(sub));
        await Refused(() => bob.CancelBatchAsync(sub));
        await Refused(() => bob.CancelRunAsync(run.ArGuid));
        await Refused(() => bob.ResumeBatchAsync(sub));
        await Refused(() => bob.RemoveBatchAsync(run.DriverBatchId));
        await Refused(() => bob.ReadConfigAsync(run.ArGuid));
        await Refused(async () => await LastOf(bob.WatchAsync([sub], new WatchOptions())));
        await Refused(async () => await LastOf(bob.ReadLogAsync(sub, 2, 1, LogStream.Stdout, follow: true)));
        await Refused(() => bob.QueryAuditLogAsync(new LogQuery { Dataset = "fewgenomes" }, null));
        Assert.DoesNotContain((await bob.QueryAuditLogAsync(new LogQuery(), null)).Runs, entry => entry.ArGuid == run.ArGuid);
        Assert.DoesNotContain(await bob.FindBatchesAsync(new BatchQuery()), batch => batch.Id == sub);

        Assert.False((await World.Deployment.Batches.RequireBatchAsync(sub)).CancelRequested);
        gate.Open();
        Assert.Equal(BatchState.Succeeded, World.WaitForBatch(sub).State);
    }

    private static async Task<T?> LastOf<T>(IAsyncEnumerable<T> items)
    {
        var last = default(T);
        await foreach (var item in items) last = item;
        return last;
    }
}

using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.Runs;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Batch.Store;

/// <summary>
/// What every IBatchStore and its IJobLedger do, run against each backend (the home's runner.db, and
/// PostgreSQL named by the home's [batches] database): the store a home's settings pick, through
/// Deployment, as the cmdlets and the executor get it.
/// </summary>
public abstract class BatchStoreContract : IAsyncLifetime
{
    private readonly TempFolder _home = new("ar-batchstore");
    private Deployment? _deployment;
    private string? _database;

    /// <summary>The connection string to put in [batches] database, or null for the embedded default.</summary>
    protected abstract Task<string?> BatchDatabaseAsync();

    protected string HomePath => _home.Path;

    protected Deployment Deployment => _deployment ?? throw new InvalidOperationException("Not initialized.");

    protected IBatchStore Store => Deployment.Batches;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null && this is PostgresBatchStoreContractTests) return;
        var database = _database = await BatchDatabaseAsync();
        Deployment.Open(new RunnerHome(_home.Path), new RecordingExecutor());
        if (database is not null)
            await File.AppendAllTextAsync(new RunnerHome(_home.Path).SettingsPath, $"\n[batches]\ndatabase = '{database}'\n");
        _deployment = Deployment.Open(new RunnerHome(_home.Path), new RecordingExecutor());
    }

    public async Task DisposeAsync()
    {
        if (_database is not null) await Deployment.CloseBatchDatabaseAsync(_database);
        _home.Dispose();
    }

    /// <summary>The same home opened again: another process's view of the same store.</summary>
    protected IBatchStore AnotherStore() => Deployment.Open(new RunnerHome(_home.Path), new RecordingExecutor()).Batches;

    private static JobSpec Job(int index, params string[] commands) => new() { Index = index, Name = "j" + index, Commands = commands };

    private static BatchSpec Batch(params JobSpec[] jobs) => new() { Name = "b", TmpRoot = "/tmp/x", Jobs = jobs, ArGuid = "guid-1" };

    private async Task<long> SubmitAsync(string? arGuid) => await Store.SubmitAsync(Batch(Job(0, "true")) with { ArGuid = arGuid });

    [BackendFact]
    public void The_home_uses_the_store_its_settings_name()
    {
        Assert.Equal(this is PostgresBatchStoreContractTests ? typeof(PostgresBatchStore) : typeof(SqliteBatchStore), Store.GetType());
    }

    [BackendFact]
    public async Task Parents_come_from_depends_on_and_from_resources_used_in_commands_and_outputs()
    {
        var id = await Store.SubmitAsync(Batch(
            Job(0, $"echo > {ResourcePlaceholder.ForJob(0, "a")}"),
            Job(1, $"echo > {ResourcePlaceholder.ForJob(1, "b")}"),
            Job(2, $"cat {ResourcePlaceholder.ForJob(0, "a")} {ResourcePlaceholder.ForJob(0, "a")} > {ResourcePlaceholder.ForJob(2, "c")}") with
            {
                DependsOn = [1],
                Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(2, "c"), "gs://b/c")],
            },
            Job(3, $"cat {ResourcePlaceholder.ForJob(2, "grp", "bam")} {ResourcePlaceholder.ForInput(0)}")));

        var jobs = await Store.GetJobsAsync(id);

        Assert.Equal([[], [], [1, 2], [3]], jobs.Select(j => j.Parents.ToArray()));
        Assert.Equal([JobState.Ready, JobState.Ready, JobState.Pending, JobState.Pending], jobs.Select(j => j.State));
        Assert.Equal([1, 1, 1, 1], jobs.Select(j => j.Attempt));
        Assert.Contains($"/tmp/x/{id}/1.a", jobs[2].Command);
        Assert.DoesNotContain("{{ar:", jobs[2].Command);
    }

    [BackendFact]
    public async Task A_batch_reads_back_with_its_counters_from_any_store_instance()
    {
        var before = DateTimeOffset.UtcNow.AddMilliseconds(-1);
        var id = await Store.SubmitAsync(Batch(Job(0, "true"), Job(1, "true") with { DependsOn = [0], Cpu = 2, MemoryBytes = 5, AlwaysRun = true, Image = "img:1" })
            with { Attributes = new Dictionary<string, string> { ["dataset"] = "fewgenomes" }, ConfigPath = "/c/run.toml" });
        var after = DateTimeOffset.UtcNow.AddMilliseconds(1);

        var batch = (await AnotherStore().GetBatchAsync(id))!;

        Assert.Equal((BatchState.Running, 2, 2, 0), (batch.State, batch.TotalJobs, batch.PendingJobs, batch.SucceededJobs));
        Assert.Equal(("guid-1", "b", "/c/run.toml", false), (batch.ArGuid, batch.Name, batch.ConfigPath, batch.CancelRequested));
        Assert.Equal("fewgenomes", batch.Attributes["dataset"]);
        Assert.Equal(TimeSpan.Zero, batch.Created.Offset);
        Assert.InRange(batch.Created, before, after);
        Assert.Null(batch.Completed);
        var job = (await Store.GetJobAsync(id, 2))!;
        Assert.Equal((2.0, 5L, true, "img:1"), (job.Cpu, job.MemoryBytes, job.AlwaysRun, job.Image));
        Assert.Null(await Store.GetJobAsync(id, 3));
        Assert.Null(await Store.GetBatchAsync(id + 1));
    }

    [BackendFact]
    public async Task A_batch_without_jobs_lands_finished()
    {
        var id = await Store.SubmitAsync(Batch());

        var batch = await Store.RequireBatchAsync(id);

        Assert.Equal((BatchState.Succeeded, 0), (batch.State, batch.TotalJobs));
        Assert.NotNull(batch.Completed);
        Assert.Empty(await Store.GetJobsAsync(id));
    }

    [BackendFact]
    public async Task A_listing_counts_each_batchs_jobs_by_state_and_a_limit_keeps_the_newest()
    {
        var first = await Store.SubmitAsync(Batch(Job(0, "a"), Job(1, "b"), Job(2, "c")));
        var second = await Store.SubmitAsync(Batch(Job(0, "d")));
        var third = await Store.SubmitAsync(Batch(Job(0, "e"), Job(1, "f")));
        using (var ledger = Deployment.OpenJobLedger())
            await ledger.WriteAsync([new(first, 1, JobState.Succeeded, 1), new(first, 2, JobState.Running, 1), new(first, 3, JobState.Failed, 1, ExitCode: 2),
                          new(third, 2, JobState.Cancelled, 1)], [], []);

        var all = await Store.FindBatchesAsync(new BatchQuery());
        var newest = await Store.FindBatchesAsync(new BatchQuery { First = 2 });

        Assert.Equal([third, second, first], all.Select(b => b.Id));
        Assert.Equal((0, 1, 1, 1, 0), Counts(all[2]));
        Assert.Equal((1, 0, 0, 0, 0), Counts(all[1]));
        Assert.Equal((1, 0, 0, 0, 1), Counts(all[0]));
        Assert.Equal([third, second], newest.Select(b => b.Id));
        Assert.Equal(Counts(all[0]), Counts(newest[0]));
        Assert.Equal(2, (await Store.GetJobAsync(first, 3))!.ExitCode);

        static (int, int, int, int, int) Counts(BatchInfo b) => (b.PendingJobs, b.RunningJobs, b.SucceededJobs, b.FailedJobs, b.CancelledJobs);
    }

    [BackendFact]
    public async Task A_job_not_yet_run_shows_its_command_resolved_and_the_variables_it_will_get()
    {
        var spec = Batch(
            Job(0, $"echo hi > {ResourcePlaceholder.ForJob(0, "out")}") with { Environment = new Dictionary<string, string> { ["GREETING"] = "hi", ["AR_JOB_ID"] = "forged" } },
            Job(1, $"cat {ResourcePlaceholder.ForJob(0, "out")}")) with { TmpRoot = "/tmp/ar-tmp", ConfigPath = "/configs/run.toml" };

        var id = await Store.SubmitAsync(spec);
        var first = (await Store.GetJobAsync(id, 1))!;
        var second = (await Store.GetJobAsync(id, 2))!;

        Assert.Equal($"echo hi > /tmp/ar-tmp/{id}/1.out", first.Command);
        Assert.Equal($"cat /tmp/ar-tmp/{id}/1.out", second.Command);
        Assert.Equal("hi", first.Environment["GREETING"]);
        Assert.Equal("1", first.Environment["AR_JOB_ID"]);
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Environment["AR_BATCH_ID"]);
        Assert.Equal("1", first.Environment["AR_ATTEMPT"]);
        Assert.Equal("/configs/run.toml", first.Environment["CPG_CONFIG_PATH"]);
        Assert.Equal(HomePath, first.Environment["AR_HOME"]);
        Assert.False(second.Environment.ContainsKey("GREETING"));
    }

    [BackendFact]
    public async Task A_drivers_command_shows_each_step_the_runner_takes_before_it_runs()
    {
        var checkout = new CheckoutSpec("https://github.com/org/repo.git", new string('c', 40), "examples/batch");
        var id = await Store.SubmitAsync(Batch(Job(0, "pwsh -NoProfile -NonInteractive -File hello.ps1") with { Checkout = checkout }));

        var lines = (await Store.GetJobAsync(id, 1))!.Command.Split('\n');

        Assert.Equal(5, lines.Length);
        Assert.StartsWith("# 1. credentials: ", lines[0]);
        Assert.StartsWith($"# 2. clone {checkout.CloneUrl} into repo", lines[1]);
        Assert.Equal("pwsh -NoProfile -NonInteractive -File hello.ps1", lines[4]);
    }

    [BackendFact]
    public async Task Find_filters_by_run_state_and_ids_newest_first()
    {
        var a = await Store.SubmitAsync(Batch(Job(0, "true")));
        var b = await Store.SubmitAsync(Batch(Job(0, "true")) with { ArGuid = "guid-2" });
        var c = await Store.SubmitAsync(Batch(Job(0, "true")));
        var empty = await Store.SubmitAsync(Batch() with { ArGuid = "guid-3" });

        Assert.Equal([c, a], (await Store.FindBatchesAsync(new BatchQuery { ArGuid = "guid-1" })).Select(x => x.Id));
        Assert.Equal([c], (await Store.FindBatchesAsync(new BatchQuery { ArGuid = "guid-1", First = 1 })).Select(x => x.Id));
        Assert.Equal([b], (await Store.FindBatchesAsync(new BatchQuery { Ids = [b, 999] })).Select(x => x.Id));
        Assert.Empty(await Store.FindBatchesAsync(new BatchQuery { Ids = [] }));
        Assert.Equal([empty], (await Store.FindBatchesAsync(new BatchQuery { State = BatchState.Succeeded })).Select(x => x.Id));
        Assert.Equal([c], (await Store.FindBatchesAsync(new BatchQuery { ArGuid = "guid-1", State = BatchState.Running, Ids = [b, c] })).Select(x => x.Id));
    }

    /// <summary>Keyset pages: BeforeId is a cursor (the last id of the page before), so pages never skip or repeat a batch, with any filter.</summary>
    [BackendFact]
    public async Task BeforeId_lists_only_older_batches_so_pages_by_the_last_id_cover_every_batch_once()
    {
        var ids = new List<long>();
        for (var i = 0; i < 7; i++) ids.Add(await SubmitAsync(i % 2 == 0 ? "guid-1" : "guid-2"));

        Assert.Equal([ids[2], ids[1]], (await Store.FindBatchesAsync(new BatchQuery { BeforeId = ids[3], First = 2 })).Select(b => b.Id));
        Assert.Equal([ids[2], ids[0]], (await Store.FindBatchesAsync(new BatchQuery { BeforeId = ids[3], ArGuid = "guid-1" })).Select(b => b.Id));
        Assert.Empty(await Store.FindBatchesAsync(new BatchQuery { BeforeId = ids[0] }));
        var paged = new List<long>();
        for (long? before = null; ;)
        {
            var page = await Store.FindBatchesAsync(new BatchQuery { BeforeId = before, First = 3 });
            paged.AddRange(page.Select(b => b.Id));
            if (page.Count < 3) break;
            before = page[^1].Id;
        }
        Assert.Equal(Enumerable.Reverse(ids), paged);
    }

    [BackendFact]
    public async Task Cancel_is_recorded_and_an_unknown_batch_is_refused()
    {
        var id = await Store.SubmitAsync(Batch(Job(0, "true")));

        await Store.RequestCancelAsync(id);

        Assert.True((await Store.GetBatchAsync(id))!.CancelRequested);
        using (var ledger = Deployment.OpenJobLedger())
            Assert.Contains(id, await ledger.CancelRequestsAsync());
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Store.RequestCancelAsync(id + 5));
        Assert.Equal(("BatchNotFound", ErrorKind.ObjectNotFound), (error.ErrorId, error.Kind));
    }

    [BackendFact]
    public async Task Cancelling_a_run_asks_to_cancel_its_driver_and_every_sub_batch_and_no_other()
    {
        var driver = await SubmitAsync("run-1");
        var sub = await SubmitAsync("run-1");
        var other = await SubmitAsync("run-2");
        var outside = await SubmitAsync(null);

        var cancelled = await Store.RequestCancelRunAsync("run-1");

        Assert.Equal([driver, sub], cancelled);
        Assert.True((await Store.GetBatchAsync(driver))!.CancelRequested);
        Assert.True((await Store.GetBatchAsync(sub))!.CancelRequested);
        Assert.False((await Store.GetBatchAsync(other))!.CancelRequested);
        Assert.False((await Store.GetBatchAsync(outside))!.CancelRequested);
    }

    [BackendFact]
    public async Task A_batch_a_cancelled_driver_submits_afterwards_lands_cancelled()
    {
        var driver = await SubmitAsync("run-1");
        await Store.RequestCancelRunAsync("run-1");

        var late = await SubmitAsync("run-1");

        Assert.True((await Store.GetBatchAsync(late))!.CancelRequested);
        Assert.True((await Store.GetBatchAsync(driver))!.CancelRequested);
    }

    /// <summary>A driver submitting while its run is being stopped: whichever lands first, every batch of the run ends up asked to cancel.</summary>
    [BackendFact]
    public async Task Batches_submitted_while_their_run_is_cancelled_all_end_up_asked_to_cancel()
    {
        await SubmitAsync("run-1");
        using var start = new Barrier(9);
        // Threads of their own (LongRunning): nine waiting at the barrier must not wait for the thread pool to grow.
        var submitters = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 5; i++) SubmitAsync("run-1").GetAwaiter().GetResult();
        }, TaskCreationOptions.LongRunning)).ToList();
        var cancel = Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return Store.RequestCancelRunAsync("run-1").GetAwaiter().GetResult();
        }, TaskCreationOptions.LongRunning);
        await Task.WhenAll([.. submitters, cancel]);

        var batches = await Store.FindBatchesAsync(new BatchQuery { ArGuid = "run-1" });
        Assert.Equal(41, batches.Count);
        Assert.All(batches, batch => Assert.True(batch.CancelRequested, $"batch {batch.Id} of the cancelled run was not asked to cancel"));
    }

    [BackendFact]
    public async Task Cancelling_one_sub_batch_leaves_the_run_free_to_submit_more()
    {
        await SubmitAsync("run-1");
        var sub = await SubmitAsync("run-1");
        await Store.RequestCancelAsync(sub);

        Assert.False((await Store.GetBatchAsync(await SubmitAsync("run-1")))!.CancelRequested);
    }

    [BackendFact]
    public async Task Cancelling_an_unknown_run_is_RunNotFound()
    {
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Store.RequestCancelRunAsync("no-such-run"));

        Assert.Equal(("RunNotFound", ErrorKind.ObjectNotFound, "no-such-run"), (error.ErrorId, error.Kind, error.Target));
    }

    [BackendFact]
    public async Task Attempts_are_recorded_first_to_latest_and_a_job_shows_its_latest_attempts_usage()
    {
        var id = await Store.SubmitAsync(Batch(Job(0, "exit 1") with { MaxAttempts = 3 }));
        var first = new AttemptKey(id, 1, 1);
        var second = new AttemptKey(id, 1, 2);
        using (var ledger = Deployment.OpenJobLedger())
        {
            await ledger.WriteAsync([new(id, 1, JobState.Running, 1)], [new(first, Started: true, "lane 0 0")], []);
            await ledger.WriteAsync([new(id, 1, JobState.Running, 2, Retried: true)],
                [new(first, Started: false, "lane 0 10", ExitCode: 1) { Usage = new ProcessUsage(0.5, 1024, 2.0) }, new(second, Started: true, "lane 1 0")], []);
            // Recovery's record of attempt 1 fills in only what the row lacks: it never overwrites.
            await ledger.WriteAsync([], [new(first, Started: false, "elsewhere", ExitCode: 9, Reason: "Interrupted") { FillInOnly = true }], []);
            await ledger.WriteAsync([new(id, 1, JobState.Succeeded, 2, ExitCode: 0)],
                [new(second, Started: false, null, ExitCode: 0) { Usage = new ProcessUsage(1.5, 2048, 3.0) }], [(id, BatchState.Succeeded)]);
        }

        var attempts = await Store.GetAttemptsAsync(id, 1);
        var job = (await Store.GetJobAsync(id, 1))!;
        var batch = await Store.RequireBatchAsync(id);

        Assert.Equal([1, 2], attempts.Select(a => a.Attempt));
        // The fill-in kept exit code and log, and gave the reason the row lacked.
        Assert.Equal((1, "lane 0 10", "Interrupted", 0.5, 1024L, 2.0), (attempts[0].ExitCode, attempts[0].RunnerLog, attempts[0].Reason,
            attempts[0].CpuSeconds, attempts[0].PeakMemoryBytes, attempts[0].WallSeconds));
        Assert.NotNull(attempts[0].Started);
        Assert.NotNull(attempts[0].Ended);
        Assert.Equal((0, "lane 1 0"), (attempts[1].ExitCode, attempts[1].RunnerLog));
        Assert.Equal((JobState.Succeeded, 2, 0, 1.5, 2048L, 3.0), (job.State, job.Attempt, job.ExitCode, job.CpuSeconds, job.PeakMemoryBytes, job.WallSeconds));
        Assert.NotNull(job.Started);
        Assert.NotNull(job.Ended);
        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.NotNull(batch.Completed);
        var missing = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Store.GetAttemptsAsync(id, 2));
        Assert.Equal("JobNotFound", missing.ErrorId);
        Assert.Empty(await Store.GetAttemptsAsync((await Store.SubmitAsync(Batch(Job(0, "true")))), 1));
        // The whole batch's attempts in one read (the usage query's) are the same records, by job then attempt.
        Assert.Equal(attempts, await Store.GetBatchAttemptsAsync(id));
        Assert.Empty(await Store.GetBatchAttemptsAsync(id + 1000));
    }

    [BackendFact]
    public async Task The_ledger_loads_unfinished_batches_after_an_id_with_their_jobs_and_specs()
    {
        var done = await Store.SubmitAsync(Batch(Job(0, "true")));
        var running = await Store.SubmitAsync(Batch(Job(0, "a"), Job(1, "b") with { DependsOn = [0], Cpu = 1.5, MemoryBytes = 7, Preemptible = true, MaxAttempts = 4 })
            with { TmpRoot = "/tmp/y", ConfigPath = "/c.toml" });
        var later = await Store.SubmitAsync(Batch(Job(0, "c")));
        using var ledger = Deployment.OpenJobLedger();
        await ledger.WriteAsync([new(done, 1, JobState.Succeeded, 1, ExitCode: 0)], [], [(done, BatchState.Succeeded)]);

        var all = await ledger.LoadBatchesAsync(0);
        var after = await ledger.LoadBatchesAsync(running);

        Assert.Equal([running, later], all.Select(b => b.Id));
        Assert.Equal([later], after.Select(b => b.Id));
        var jobs = all[0].Jobs;
        Assert.Equal([1, 2], jobs.Select(j => j.JobId));
        Assert.Equal(new JobRow(2, JobState.Pending, 1, 4, true, false, 1.5, 7, [1]) with { Parents = jobs[1].Parents }, jobs[1]);
        Assert.Equal([1], jobs[1].Parents);
        var runningSpec = await ledger.LoadBatchSpecAsync(running);
        Assert.Equal(("/tmp/y", "/c.toml", 0), (runningSpec.TmpRoot, runningSpec.ConfigPath, runningSpec.Jobs.Count));
        Assert.Equal(["b"], (await ledger.LoadJobSpecAsync(running, 2)).Commands);
        Assert.Equal("BatchRowMissing", (await Assert.ThrowsAsync<AnalysisRunnerException>(() => ledger.LoadJobSpecAsync(running, 3))).ErrorId);
    }

    [BackendFact]
    public async Task Remove_refuses_an_unfinished_batch_and_deletes_a_finished_ones_rows_and_folders()
    {
        var running = await Store.SubmitAsync(Batch(Job(0, "true")));
        var finished = await Store.SubmitAsync(Batch(Job(0, "true")));
        using (var ledger = Deployment.OpenJobLedger())
            await ledger.WriteAsync([new(finished, 1, JobState.Succeeded, 1, ExitCode: 0)], [new(new AttemptKey(finished, 1, 1), Started: false, "l", 0)],
                [(finished, BatchState.Succeeded)]);
        var logs = Path.Combine(Deployment.Home.LogsDirectory, finished.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var work = Path.Combine(Deployment.Home.WorkDirectory, finished.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(logs);
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(logs, "0.log"), "x");

        var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Store.RemoveAsync(running));
        await Store.RemoveAsync(finished);
        var gone = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Store.RemoveAsync(finished));

        Assert.Equal(("BatchNotFinished", ErrorKind.InvalidOperation), (refused.ErrorId, refused.Kind));
        Assert.NotNull(await Store.GetBatchAsync(running));
        Assert.Null(await Store.GetBatchAsync(finished));
        Assert.Empty(await Store.GetJobsAsync(finished));
        Assert.Equal("JobNotFound", (await Assert.ThrowsAsync<AnalysisRunnerException>(() => Store.GetAttemptsAsync(finished, 1))).ErrorId);
        Assert.False(Directory.Exists(logs));
        Assert.False(Directory.Exists(work));
        Assert.Equal("BatchNotFound", gone.ErrorId);
    }
}

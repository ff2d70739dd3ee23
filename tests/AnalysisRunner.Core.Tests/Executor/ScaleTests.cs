using System.Diagnostics;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners.Local;
using Xunit.Abstractions;

namespace AnalysisRunner.Core.Tests.Executor;

public sealed class ScaleTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public async Task A_200_job_batch_survives_kill_9_of_its_executor_and_every_job_succeeds_exactly_once()
    {
        var ledger = Path.Combine(_home.Root, "ran.txt");
        // The last jobs wait at a gate, so the batch is still running when its executor dies, however slow the machine.
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var jobs = Enumerable.Range(0, 200)
            .Select(i => TestHome.Job(i, i < 190 ? "sleep 0.05" : gate.WaitCommand, $"echo {i} >> {ShellQuoting.Quote(ledger)}") with { Cpu = 0.5 })
            .ToArray();
        var id = await _home.SubmitAndWakeAsync(jobs);
        Assert.True(await _home.WaitUntilAsync(async () => (await _home.Store.GetBatchAsync(id))!.SucceededJobs >= 50, 60, id));

        _home.KillExecutor();
        Assert.Equal(BatchState.Running, (await _home.Store.GetBatchAsync(id))!.State);
        gate.Open();
        _home.Client.Wake();
        var batch = _home.WaitForBatch(id, seconds: 180);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal(200, batch.SucceededJobs);
        var ran = File.ReadAllLines(ledger).Select(int.Parse).ToList();
        Assert.Equal(ran.Distinct().Count(), ran.Count);
        Assert.Equal(Enumerable.Range(0, 200), ran.Order());
        Assert.Contains("recovery", _home.ExecutorLog());
    }

    [Fact]
    public async Task Ten_batches_submitted_in_parallel_all_land_and_complete()
    {
        var ids = new long[10];
        await Parallel.ForAsync(0, 10, new ParallelOptions { MaxDegreeOfParallelism = 10 }, async (i, _) =>
        {
            // A store per submitter, as separate sessions would have.
            var store = new SqliteBatchStore(new Hosting.RunnerDatabase(new Hosting.RunnerHome(_home.Root)));
            ids[i] = await store.SubmitAsync(_home.Batch(Enumerable.Range(0, 20).Select(j => TestHome.Job(j, $"echo {i}-{j}") with { Cpu = 0.25 }).ToArray()));
            new ExecutorClient(_home.Home).Wake();
        });

        Assert.Equal(10, ids.Distinct().Count());
        foreach (var id in ids)
        {
            var batch = _home.WaitForBatch(id, seconds: 120);
            Assert.Equal((BatchState.Succeeded, 20), (batch.State, batch.SucceededJobs));
        }
        using var connection = _home.Database.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public async Task A_10000_job_dag_submits_and_completes_and_its_work_folders_are_removed()
    {
        // Each job: true, plus one resource hand-off from its parent(s).
        var parents = DagShapes.FanOutChainsFanIn(10_000);
        var jobs = parents.Select((ps, i) => TestHome.Job(i,
                "true", ps.Length == 0 ? $"touch {ResourcePlaceholder.ForJob(i, "out")}" : $"cat {ResourcePlaceholder.ForJob(ps[0], "out")} > {ResourcePlaceholder.ForJob(i, "out")}")
            with { Cpu = 0.5, DependsOn = ps.Skip(1).ToArray() })
            .ToArray();
        var clock = Stopwatch.StartNew();
        var spec = _home.Batch(jobs);
        DagValidator.Validate(spec, 2, 1L << 34);
        var id = await _home.SubmitAndWakeAsync(spec);
        var submitted = clock.Elapsed;
        int? pid = null;
        ExecutorPresence.WaitUntil(_home.Home, () => (pid = ExecutorClient.RunningProcessId(_home.Home)) is not null, TimeSpan.FromSeconds(30));
        var batch = _home.WaitForBatch(id, seconds: 900);
        string? peak = null;
        try { peak = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM")); } catch (IOException) { }

        Assert.Equal((BatchState.Succeeded, 10_000), (batch.State, batch.SucceededJobs));
        // A measurement printed for bench/README, never asserted on.
        output.WriteLine($"10,000 jobs: submitted in {submitted.TotalSeconds:F1}s, complete in {clock.Elapsed.TotalSeconds:F1}s; executor {peak}");
        Console.WriteLine($"MEASURE 10,000 jobs: submitted in {submitted.TotalSeconds:F1}s, complete in {clock.Elapsed.TotalSeconds:F1}s; executor {peak}");
        var work = Path.Combine(_home.Home.WorkDirectory, id.ToString());
        Assert.True(_home.WaitUntil(() => !Directory.Exists(work), 60));
    }

    [Fact]
    public async Task Remove_deletes_a_finished_batch_and_refuses_a_running_one()
    {
        var running = await _home.SubmitAndWakeAsync(TestHome.Job(0, "sleep 30"));
        var finished = await _home.SubmitAndWakeAsync(TestHome.Job(0, "echo done"));
        _home.WaitForBatch(finished);

        var refused = await Assert.ThrowsAsync<AnalysisRunnerException>(() => _home.Store.RemoveAsync(running));
        Assert.Equal("BatchNotFinished", refused.ErrorId);
        await _home.Store.RemoveAsync(finished);

        Assert.Null(await _home.Store.GetBatchAsync(finished));
        Assert.Empty(await _home.Store.GetJobsAsync(finished));
        Assert.False(Directory.Exists(Path.Combine(_home.Home.LogsDirectory, finished.ToString())));
        Assert.Equal("BatchNotFound", (await Assert.ThrowsAsync<AnalysisRunnerException>(() => _home.Store.RemoveAsync(finished))).ErrorId);
        await _home.Store.RequestCancelAsync(running);
        _home.Client.Wake();
        _home.WaitForBatch(running);
        await _home.Store.RemoveAsync(running);
        Assert.Null(await _home.Store.GetBatchAsync(running));
    }

    [Fact]
    public async Task Each_attempt_of_a_retried_job_keeps_its_own_logs()
    {
        var marker = Path.Combine(_home.Root, "second-time");
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0,
            $"echo attempt $AR_ATTEMPT", $"if [ ! -e {ShellQuoting.Quote(marker)} ]; then touch {ShellQuoting.Quote(marker)}; echo boom >&2; exit 7; fi")
            with { Preemptible = true, MaxAttempts = 3 });
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        var attempts = await _home.Logs.GetAttemptsAsync(id, 1);
        Assert.Equal([(1, (int?)7), (2, 0)], attempts.Select(a => (a.Attempt, a.ExitCode)));
        Assert.Equal("attempt 1\n", _home.Stdout(id, 1, attempt: 1));
        Assert.Equal("boom\n", _home.Stderr(id, 1, attempt: 1));
        Assert.Equal("attempt 2\n", _home.Stdout(id, 1, attempt: 2));
        Assert.Equal("", _home.Stderr(id, 1, attempt: 2));
    }

    [Fact]
    public async Task A_home_too_long_for_a_unix_socket_still_gets_an_executor()
    {
        var root = Path.Combine(_home.Root, new string('h', 120));
        var home = new Hosting.RunnerHome(root);
        var store = new SqliteBatchStore(new Hosting.RunnerDatabase(home));
        var client = new ExecutorClient(home);
        try
        {
            var id = await store.SubmitAsync(new BatchSpec { Name = "long", TmpRoot = Path.Combine(root, "tmp"), Jobs = [TestHome.Job(0, "echo long home")] });
            client.Wake();
            var watcher = new Core.Batch.Watching.BatchWatcher(home, store);
            var batch = watcher.WatchAsync([id], new Core.Batch.Watching.WatchOptions { Timeout = TimeSpan.FromSeconds(60) }).ToBlockingEnumerable().Last();
            Assert.Equal(BatchState.Succeeded, batch.Batches[0].State);
            Assert.StartsWith("/tmp/ar-executor-", ExecutorSocket.PathFor(home));
        }
        finally { client.Stop(TimeSpan.FromSeconds(20)); }
    }

    [Fact]
    public void Capacity_comes_from_settings_unless_a_variable_overrides_it()
    {
        File.WriteAllText(_home.Home.SettingsPath, "[executor]\ncpus = 3\nmemory = \"2Gi\"\nsandbox = \"none\"\n");

        var capacity = LocalCapacity.Detect(Hosting.RunnerSettings.Load(_home.Home));

        // TestHome sets AR_EXECUTOR_CPUS=2 for every executor the tests start; memory comes from the file.
        Assert.Equal((2.0, 2L << 30), (capacity.AtOnce.Cpu, capacity.AtOnce.MemoryBytes));
    }
}

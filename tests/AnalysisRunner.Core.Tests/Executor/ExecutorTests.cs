using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Native;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>Batches run by the real executor process, started by ExecutorClient.Wake as a user's submit would.</summary>
public sealed class ExecutorTests : IDisposable
{
    private readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task A_job_reads_the_resource_its_parent_wrote()
    {
        var id = await _home.SubmitAndWakeAsync(
            TestHome.Job(0, $"echo 'hello from one' > {ResourcePlaceholder.ForJob(0, "greeting")}"),
            TestHome.Job(1, $"cat {ResourcePlaceholder.ForJob(0, "greeting")}"));

        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal(2, batch.SucceededJobs);
        Assert.Equal("hello from one\n", _home.Stdout(id, 2));
        var second = (await _home.Store.GetJobAsync(id, 2))!;
        Assert.Equal([1], second.Parents);
        Assert.Contains(Path.Combine(_home.TmpRoot, id.ToString(), "1.greeting"), second.Command);
        Assert.DoesNotContain("{{ar:", second.Command);
        Assert.True(second.Started <= second.Ended);
    }

    [Fact]
    public async Task A_job_runs_under_the_shell_it_names_and_an_unknown_shell_fails_it_at_start()
    {
        // [[ ]] is bash's: under sh it is a command that does not exist, and set -e ends the job there.
        var id = await _home.SubmitAndWakeAsync(
            TestHome.Job(0, "echo $0", "[[ 1 == 1 ]] && echo bash-only"),
            TestHome.Job(1, "echo $0", "[[ 1 == 1 ]] && echo bash-only") with { Shell = "sh" },
            TestHome.Job(2, "echo $0") with { Shell = "/bin/sh" },
            TestHome.Job(3, "echo never") with { Shell = "no-such-shell-here" });

        var batch = _home.WaitForBatch(id);
        var jobs = await _home.Store.GetJobsAsync(id);

        Assert.Equal("bash\nbash-only\n", _home.Stdout(id, 1));
        Assert.Equal(JobState.Succeeded, jobs[0].State);
        Assert.StartsWith("sh\n", _home.Stdout(id, 2));
        Assert.Equal(JobState.Failed, jobs[1].State);
        Assert.Equal("sh\n", _home.Stdout(id, 3));
        Assert.Equal(JobState.Succeeded, jobs[2].State);
        Assert.Equal(JobState.Failed, jobs[3].State);
        Assert.Contains("no-such-shell-here", jobs[3].Reason);
        Assert.StartsWith("StartFailed", jobs[3].Reason);
        Assert.Equal(BatchState.Failed, batch.State);
    }

    [Fact]
    public async Task A_script_too_long_for_one_argument_in_bytes_runs_from_a_file()
    {
        // 45,000 characters but 135,000 bytes of UTF-8: over Linux's 128 KiB for one argument.
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, ": '" + new string('→', 45_000) + "'", "echo ran"));

        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(id).State);
        Assert.Equal("ran\n", _home.Stdout(id, 1));
    }

    [Fact]
    public async Task Fan_out_then_fan_in_sees_every_branch()
    {
        var jobs = new List<JobSpec> { TestHome.Job(0, $"echo 10 > {ResourcePlaceholder.ForJob(0, "n")}") };
        for (var i = 1; i <= 5; i++)
            jobs.Add(TestHome.Job(i, $"echo $(( $(cat {ResourcePlaceholder.ForJob(0, "n")}) + {i} )) > {ResourcePlaceholder.ForJob(i, "n")}"));
        var sum = string.Join(" + ", Enumerable.Range(1, 5).Select(i => $"$(cat {ResourcePlaceholder.ForJob(i, "n")})"));
        jobs.Add(TestHome.Job(6, $"echo $(( {sum} ))"));

        var id = await _home.SubmitAndWakeAsync([.. jobs]);
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal("65\n", _home.Stdout(id, 7));
        Assert.Equal([2, 3, 4, 5, 6], (await _home.Store.GetJobAsync(id, 7))!.Parents);
    }

    [Fact]
    public async Task A_failure_cancels_the_children_but_always_run_still_runs()
    {
        var id = await _home.SubmitAndWakeAsync(
            TestHome.Job(0, "echo before", "exit 3", "echo never"),
            TestHome.Job(1, "echo child") with { DependsOn = [0] },
            TestHome.Job(2, "echo grandchild") with { DependsOn = [1] },
            TestHome.Job(3, "echo cleaning up") with { DependsOn = [0, 2], AlwaysRun = true });

        var batch = _home.WaitForBatch(id);
        var jobs = await _home.Store.GetJobsAsync(id);

        Assert.Equal(BatchState.Failed, batch.State);
        Assert.Equal((JobState.Failed, 3), (jobs[0].State, jobs[0].ExitCode!.Value));
        Assert.Equal("before\n", _home.Stdout(id, 1));
        Assert.Equal((JobState.Cancelled, "ParentFailed"), (jobs[1].State, jobs[1].Reason));
        Assert.Equal((JobState.Cancelled, "ParentFailed"), (jobs[2].State, jobs[2].Reason));
        Assert.Empty(await _home.Store.GetAttemptsAsync(id, 2));
        Assert.Equal(JobState.Succeeded, jobs[3].State);
        Assert.Equal("cleaning up\n", _home.Stdout(id, 4));
    }

    [Fact]
    public async Task A_job_over_its_timeout_is_killed_and_fails_with_reason_timeout()
    {
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, "echo started", gate.WaitCommand, "echo not killed") with { Timeout = TimeSpan.FromSeconds(1) });

        // The gate never opens: only the kill can end the job.
        var batch = _home.WaitForBatch(id);
        var job = (await _home.Store.GetJobAsync(id, 1))!;

        Assert.Equal(BatchState.Failed, batch.State);
        Assert.Equal((JobState.Failed, "Timeout"), (job.State, job.Reason));
        Assert.Equal("started\n", _home.Stdout(id, 1));
    }

    [Fact]
    public async Task Cancelling_a_batch_stops_its_running_job_and_nothing_more_runs()
    {
        var marker = Path.Combine(_home.Root, "child-ran");
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var id = await _home.SubmitAndWakeAsync(
            TestHome.Job(0, "echo started", gate.WaitCommand, "echo not stopped"),
            TestHome.Job(1, $"touch {ShellQuoting.Quote(marker)}") with { DependsOn = [0] },
            TestHome.Job(2, $"touch {ShellQuoting.Quote(marker)}") with { DependsOn = [0], AlwaysRun = true });
        await _home.WaitForJobAsync(id, 1, JobState.Running);

        await _home.Store.RequestCancelAsync(id);
        _home.Client.Wake();
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Cancelled, batch.State);
        Assert.True(batch.CancelRequested);
        Assert.Equal(3, batch.CancelledJobs);
        Assert.Equal("Cancelled", (await _home.Store.GetJobAsync(id, 1))!.Reason);
        Assert.DoesNotContain("not stopped", _home.Stdout(id, 1));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Jobs_see_their_context_and_outputs_are_copied_to_the_bucket()
    {
        var spec = _home.Batch(
            TestHome.Job(0, $"echo \"$AR_BATCH_ID $AR_JOB_ID $AR_ATTEMPT $CPG_CONFIG_PATH $GREETING\" > {ResourcePlaceholder.ForJob(0, "out")}", "pwd")
                with
                {
                    Environment = new Dictionary<string, string> { ["GREETING"] = "hi there" },
                    Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(0, "out"), "gs://cpg-fewgenomes-main/results/out.txt")],
                }) with
                {
                    ConfigPath = "/configs/run.toml",
                    // Outside a run the batch's author must be a member where it writes (the home's default registry names this OS account).
                    Attributes = new Dictionary<string, string> { ["author"] = Environment.UserName },
                };

        var id = await _home.SubmitAndWakeAsync(spec);
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        var copied = Path.Combine(_home.Root, "buckets", "cpg-fewgenomes-main", "results", "out.txt");
        Assert.Equal($"{id} 1 1 /configs/run.toml hi there\n", File.ReadAllText(copied));
        // A job that asks for no scratch space works in its batch's shared folder.
        Assert.Equal(Path.Combine(_home.Root, "work", id.ToString()) + "\n", _home.Stdout(id, 1));
    }

    [Fact]
    public async Task The_state_read_by_a_second_store_matches_after_a_run()
    {
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, "true"), TestHome.Job(1, "false") with { DependsOn = [0] });
        _home.WaitForBatch(id);

        var other = new SqliteBatchStore(new Hosting.RunnerDatabase(new Hosting.RunnerHome(_home.Root)));

        var expected = (await _home.Store.GetBatchAsync(id))!;
        Assert.Equal(expected, (await other.GetBatchAsync(id))! with { Attributes = expected.Attributes });
        Assert.Equal(BatchState.Failed, (await other.GetBatchAsync(id))!.State);
        Assert.Equal([JobState.Succeeded, JobState.Failed], (await other.GetJobsAsync(id)).Select(j => j.State));
        Assert.Equal(1, (await other.GetJobAsync(id, 2))!.ExitCode);
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public async Task After_the_executor_is_killed_the_next_one_recovers_and_every_job_runs_exactly_once()
    {
        var ledger = Path.Combine(_home.Root, "ran.txt");
        // The last jobs wait at a gate, so the batch is still under way when its executor dies, however slow the machine.
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var jobs = Enumerable.Range(0, 50)
            .Select(i => TestHome.Job(i, i < 40 ? "true" : gate.WaitCommand, $"echo {i} >> {ShellQuoting.Quote(ledger)}") with { MaxAttempts = 2 })
            .ToArray();
        var id = await _home.SubmitAndWakeAsync(jobs);
        Assert.True(await _home.WaitUntilAsync(async () => (await _home.Store.GetBatchAsync(id))!.SucceededJobs >= 10, 60, id));

        _home.KillExecutor();
        Assert.NotEqual(BatchState.Succeeded, (await _home.Store.GetBatchAsync(id))!.State);

        gate.Open();
        _home.Client.Wake();
        var batch = _home.WaitForBatch(id, seconds: 90);

        Assert.Equal(BatchState.Succeeded, batch.State);
        var ran = File.ReadAllLines(ledger).Select(int.Parse).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 50).ToList(), ran);
        Assert.Contains("recovery:", _home.ExecutorLog());
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public async Task Jobs_still_running_when_the_executor_dies_are_adopted_and_finish_their_attempt()
    {
        var ledger = Path.Combine(_home.Root, "ran.txt");
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var id = await _home.SubmitAndWakeAsync(Enumerable.Range(0, 3)
            .Select(i => TestHome.Job(i, "echo started", gate.WaitCommand, $"echo {i} >> {ShellQuoting.Quote(ledger)}"))
            .ToArray());
        await WaitForOutputAsync(id, 1);
        await WaitForOutputAsync(id, 2);

        _home.KillExecutor();
        _home.Client.Wake();
        // The gate keeps both jobs running until the new executor has adopted them, however slow its start.
        Assert.True(_home.WaitUntil(() => _home.ExecutorLog().Contains($"batch {id} job 1 attempt 1 adopted")
            && _home.ExecutorLog().Contains($"batch {id} job 2 attempt 1 adopted"), 60), _home.ExecutorLog());
        gate.Open();
        var batch = _home.WaitForBatch(id, seconds: 60);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal([0, 1, 2], File.ReadAllLines(ledger).Select(int.Parse).Order());
        Assert.True((await _home.Store.GetJobsAsync(id)).All(j => j.Attempt == 1), _home.ExecutorLog());
        Assert.Contains("adopted", _home.ExecutorLog());
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public async Task Jobs_cut_off_with_their_executor_run_again_as_a_new_attempt_even_with_max_attempts_one()
    {
        var ledger = Path.Combine(_home.Root, "ran.txt");
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var id = await _home.SubmitAndWakeAsync(Enumerable.Range(0, 3)
            .Select(i => TestHome.Job(i, "echo started", gate.WaitCommand, $"echo {i} >> {ShellQuoting.Quote(ledger)}"))
            .ToArray());
        await WaitForOutputAsync(id, 1);
        await WaitForOutputAsync(id, 2);

        // As if the machine went down: the executor and its jobs die together (held at the gate, they cannot have finished).
        var jobs = OrphanJobs.Find(_home.Home, new HashSet<long> { id }).Where(p => p.JobId is 1 or 2).ToList();
        _home.KillExecutor();
        OrphanJobs.Kill(jobs, TextWriter.Null);
        gate.Open();
        _home.Client.Wake();
        var batch = _home.WaitForBatch(id, seconds: 60);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal([0, 1, 2], File.ReadAllLines(ledger).Select(int.Parse).Order());
        Assert.Equal([2, 2, 1], (await _home.Store.GetJobsAsync(id)).Select(j => j.Attempt));
        Assert.Contains("→ Ready (Interrupted)", _home.ExecutorLog());
        Assert.Equal(2, (await _home.Logs.GetAttemptsAsync(id, 1)).Count);
        Assert.Equal("started\n", _home.Stdout(id, 1, attempt: 1));
        Assert.Equal("started\n", _home.Stdout(id, 1, attempt: 2));
    }

    /// <summary>Waits, on writes to the batch's logs, until the job's current attempt has printed something.</summary>
    private async Task WaitForOutputAsync(long batchId, int jobId)
    {
        if (await _home.WaitUntilAsync(async () => _home.Stdout(batchId, jobId, Math.Max(1, (await _home.Store.GetJobAsync(batchId, jobId))!.Attempt)).Length > 0, 60, batchId)) return;
        throw new TimeoutException($"Job {batchId}/{jobId} never printed. Executor log:\n{_home.ExecutorLog()}");
    }

    [Fact]
    public async Task A_second_wake_while_running_does_not_start_a_second_executor()
    {
        // The first batch holds the executor busy until the second is done, so it cannot go idle between.
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, gate.WaitCommand));
        await _home.WaitForJobAsync(id, 1, JobState.Running);
        var pid = ExecutorClient.RunningProcessId(_home.Home);

        var second = await _home.SubmitAndWakeAsync(TestHome.Job(0, "echo second"));
        _home.WaitForBatch(second);
        Assert.Equal(pid, ExecutorClient.RunningProcessId(_home.Home));
        gate.Open();
        _home.WaitForBatch(id);

        Assert.Equal(pid, ExecutorClient.RunningProcessId(_home.Home));
    }

    [Fact]
    public async Task Waking_before_and_after_the_insert_starts_one_executor_not_two()
    {
        // What a submit does: wake (start) the executor, write the batch, wake it again; here the
        // second wake comes at once, before the runtime it started can have reached its lock.
        var client = new ExecutorClient(_home.Home);
        client.Wake();
        client.Wake();
        var id = await _home.Store.SubmitAsync(_home.Batch(TestHome.Job(0, "echo once")));
        client.Wake();

        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(id).State);
        var log = File.ReadAllText(_home.Home.ExecutorLogPath);
        Assert.DoesNotContain("another executor is running", log);
        Assert.True(System.Text.RegularExpressions.Regex.Matches(log, " listening;").Count == 1, log);
    }

    [Fact]
    public async Task A_waiting_client_is_told_when_a_batch_ends()
    {
        // A batch held open keeps the executor busy, so it cannot go idle and close the socket: the
        // only thing that can end a wait with no timeout is the signal that the other batch ended.
        using var keepBusy = new JobGate(Path.Combine(_home.Root, "busy"));
        using var finish = new JobGate(Path.Combine(_home.Root, "finish"));
        var busy = await _home.SubmitAndWakeAsync(TestHome.Job(0, keepBusy.WaitCommand));
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, finish.WaitCommand));
        await _home.WaitForJobAsync(busy, 1, JobState.Running);
        await _home.WaitForJobAsync(id, 1, JobState.Running);
        using var signals = ExecutorSignals.TryConnect(_home.Home, changes: false)!;
        finish.Open();

        Assert.Equal(0, Poll.WaitAny([signals.Handle], TimeSpan.FromSeconds(60)));
        var seen = signals.Drain();

        // Woken by the batch-end signal, not by the timeout, nor by the executor closing the socket
        // (it cannot go idle while the other batch runs); and the batch has ended by the time it is sent.
        Assert.True(seen.HasFlag(Signal.BatchEnded), $"woken by {seen}");
        Assert.Equal(BatchState.Succeeded, (await _home.Store.GetBatchAsync(id))!.State);
        Assert.Equal(BatchState.Running, (await _home.Store.GetBatchAsync(busy))!.State);
        keepBusy.Open();
    }

    [Fact]
    public async Task An_idle_executor_exits_on_its_own_and_the_next_wake_starts_another()
    {
        var first = await _home.SubmitAndWakeAsync(TestHome.Job(0, "true"));
        _home.WaitForBatch(first);
        Assert.True(ExecutorPresence.WaitUntil(_home.Home, () => !ExecutorClient.IsRunning(_home.Home), TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(_home.Home.ExecutorSocketPath));

        var second = await _home.SubmitAndWakeAsync(TestHome.Job(0, "echo again"));

        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(second).State);
        Assert.Equal("again\n", _home.Stdout(second, 1));
    }

    [Fact]
    public void Capacity_comes_from_the_machine_unless_overridden()
    {
        var capacity = LocalCapacity.Detect();
        Assert.Equal(2, capacity.AtOnce.Cpu);
        Assert.Equal(capacity.AtOnce, capacity.LargestJob);
        Assert.True(capacity.AtOnce.MemoryBytes > 0);
        Assert.False(capacity.CanEverFit(TestHome.Job(0) with { Cpu = 64 }));
    }
}

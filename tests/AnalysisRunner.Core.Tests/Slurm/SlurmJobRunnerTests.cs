using System.Threading.Channels;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Slurm;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Tests.Slurm;

/// <summary>The Slurm runner against FakeSlurm: what it submits, how it reads ends and stops, how it recovers.</summary>
public sealed class SlurmJobRunnerTests : IDisposable
{
    /// <summary>Only so a broken runner fails the test instead of hanging it; nothing waits this long when things work.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _root = Path.Combine("/tmp", "ar-slurm-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly RunnerHome _home;
    private readonly FakeSlurm _slurm = new();
    private readonly SlurmSettings _settings = new() { PollInterval = TimeSpan.FromMilliseconds(20), SubmitRetryDelay = TimeSpan.FromMilliseconds(5) };
    private readonly List<IDisposable> _runners = [];

    public SlurmJobRunnerTests()
    {
        Directory.CreateDirectory(_root);
        _home = new RunnerHome(_root);
    }

    private sealed class Sink : IAttemptSink
    {
        public Channel<AttemptEnded> Ends { get; } = Channel.CreateUnbounded<AttemptEnded>();
        public void Ended(AttemptEnded ended) => Ends.Writer.TryWrite(ended);
        public async Task<AttemptEnded> Next() => await Ends.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);
    }

    private (SlurmJobRunner Runner, Sink Sink) NewRunner()
    {
        var sink = new Sink();
        var runner = new SlurmJobRunner(_home, SlurmRunnerBackend.Detect(_slurm, _settings), _settings, _slurm, sink, TextWriter.Null);
        _runners.Add(runner);
        return (runner, sink);
    }

    private static AttemptLaunch Launch(int jobId, int attempt = 1, string name = "job", TimeSpan? timeout = null) => new()
    {
        Key = new AttemptKey(7, jobId, attempt),
        JobName = name,
        Command = "echo hello",
        Environment = [new("GREETING", "it's me"), new("SBATCH_ACCOUNT", "someone-else"), new("AR_JOB_ID", jobId.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        Work = WorkFolder.Shared,
        Cpu = 1.5,
        MemoryBytes = 1L << 30,
        StorageBytes = 10L << 20,
        Timeout = timeout,
        Preemptible = true,
        Dataset = "fewgenomes",
        ArGuid = "0b1e2f",
    };

    private static void Start(SlurmJobRunner runner, AttemptLaunch launch) => runner.Start(launch, runner.ReserveLog(launch.Key));

    private async Task<FakeSlurm.Job> Submitted() => await _slurm.Submitted.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);

    [Fact]
    public async Task An_attempt_becomes_one_sbatch_with_its_resources_identity_and_log_files()
    {
        var (runner, _) = NewRunner();
        Start(runner, Launch(3, name: "x; rm -rf ~ $(id)", timeout: TimeSpan.FromSeconds(90)));
        var job = await Submitted();

        var options = job.Request.Options;
        var prefix = SlurmLayout.NamePrefix(_home);
        Assert.Contains($"--job-name={prefix}7.3.1.x__rm_-rf_____id_", options);
        Assert.Contains("--comment=ar_guid=0b1e2f batch=7 job=3 attempt=1", options);
        Assert.Contains("--cpus-per-task=2", options);
        Assert.Contains("--mem=1024M", options);
        Assert.Contains("--tmp=10M", options);
        Assert.Contains("--time=2", options);
        Assert.Contains("--account=fewgenomes", options);
        Assert.Contains("--requeue", options);
        Assert.Contains($"--output={_root}/logs/7/3.1.out", options);
        Assert.Contains($"--error={_root}/logs/7/3.1.err", options);
        Assert.Contains($"--chdir={_root}/work/7", options);
        // The job's variables are in the script, where sbatch cannot read them as options.
        Assert.Contains("export GREETING='it'\\''s me'", job.Script);
        Assert.Contains("export AR_JOB_ID=3", job.Script);
        Assert.Contains("set -e\necho hello", job.Script);
        Assert.DoesNotContain(job.Request.Environment, line => line.StartsWith("SBATCH_", StringComparison.Ordinal) || line.StartsWith("GREETING=", StringComparison.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(job.Request.ScriptPath));
        // The runner appends the ledger line after sbatch answers and only then can cancel the job:
        // once scancel comes, the line is there.
        runner.Stop(new AttemptKey(7, 3, 1), StopReasons.Cancelled);
        Assert.Equal(job.Id, await _slurm.Cancelled.Reader.ReadAsync(new CancellationTokenSource(Patience).Token));
        Assert.Contains("Q 3 1 " + job.Id, File.ReadAllText(SlurmLayout.Ledger(_home, 7)));
    }

    [Theory]
    [InlineData("COMPLETED", 0, 0, null, null)]
    [InlineData("FAILED", 3, 3, null, null)]
    [InlineData("TIMEOUT", null, null, StopReasons.Timeout, null)]
    [InlineData("NODE_FAIL", null, null, StopReasons.Interrupted, null)]
    [InlineData("OUT_OF_MEMORY", 0, 0, null, "OutOfMemory")]
    [InlineData("CANCELLED by 0", 143, 143, null, "SlurmCancelled")]
    public async Task An_ended_Slurm_job_is_reported_as_the_scheduler_reads_ends(string state, int? slurmExit, int? exitCode, string? stop, string? errorId)
    {
        var (runner, sink) = NewRunner();
        Start(runner, Launch(1));
        var job = await Submitted();
        _slurm.Set(job.Id, "RUNNING");
        _slurm.Set(job.Id, state, slurmExit);

        var ended = await sink.Next();
        Assert.Equal(new AttemptKey(7, 1, 1), ended.Key);
        Assert.Equal(exitCode, ended.ExitCode);
        Assert.Equal(stop, ended.StopReason);
        if (errorId is null) Assert.Null(ended.Error);
        else Assert.StartsWith(errorId + ":", ended.Error);
        Assert.Equal(SlurmLayout.LogStem(_home, ended.Key), ended.Log);
    }

    [Fact]
    public async Task An_ended_job_carries_what_accounting_says_it_used_and_none_without_accounting()
    {
        var (runner, sink) = NewRunner();
        Start(runner, Launch(1));
        Start(runner, Launch(2));
        var first = await Submitted();
        var second = await Submitted();
        _slurm.Accounting[first.Id] = new ProcessUsage(12.5, 3L << 30, 40);
        _slurm.Set(first.Id, "COMPLETED", 0);
        var measured = await sink.Next();
        _slurm.Set(second.Id, "COMPLETED", 0);
        var unmeasured = await sink.Next();

        Assert.Equal(new ProcessUsage(12.5, 3L << 30, 40), measured.Usage);
        Assert.Null(unmeasured.Usage);
    }

    [Theory]
    [InlineData("42|01:02.500||\n42.batch|01:02.500|2048K|\n42.extern|00:00:00|1024K|", 62.5, 2048L * 1024, null)]
    [InlineData("42|1-02:03:04||70\n42.batch|1-02:03:04|1.5G|70", 93784.0, 1610612736L, 70.0)]
    [InlineData("42|00:00:01||5\n42.batch|00:00:01|12M|5", 1.0, 12L << 20, 5.0)]
    public void Sacct_usage_is_read_from_TotalCPU_the_largest_MaxRSS_and_ElapsedRaw(string sacct, double cpu, long peak, double? wall)
    {
        var usage = SlurmUsage.Parse("42", sacct);

        Assert.NotNull(usage);
        Assert.Equal(cpu, usage.CpuSeconds, 3);
        Assert.Equal(peak, usage.PeakMemoryBytes);
        if (wall is { } seconds) Assert.Equal(seconds, usage.WallSeconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("43|00:00:01|1K|1")]
    [InlineData("42|bogus||1")]
    public void Sacct_without_the_job_or_its_figures_gives_no_usage(string sacct) => Assert.Null(SlurmUsage.Parse("42", sacct));

    [Fact]
    public async Task A_job_the_controller_forgot_is_read_from_sacct()
    {
        var (runner, sink) = NewRunner();
        Start(runner, Launch(1));
        var job = await Submitted();
        _slurm.Set(job.Id, "FAILED", 5);
        _slurm.Purge(job.Id);

        Assert.Equal(5, (await sink.Next()).ExitCode);
    }

    [Fact]
    public async Task Stop_cancels_the_job_with_scancel_and_reports_the_reason()
    {
        var (runner, sink) = NewRunner();
        Start(runner, Launch(1));
        var job = await Submitted();
        _slurm.Set(job.Id, "RUNNING");

        runner.Stop(new AttemptKey(7, 1, 1), StopReasons.Cancelled);

        Assert.Equal(job.Id, await _slurm.Cancelled.Reader.ReadAsync(new CancellationTokenSource(Patience).Token));
        var ended = await sink.Next();
        Assert.Equal(StopReasons.Cancelled, ended.StopReason);
    }

    [Fact]
    public async Task A_stop_while_sbatch_runs_cancels_the_job_sbatch_returns()
    {
        var (runner, sink) = NewRunner();
        _slurm.SubmitGate = new SemaphoreSlim(0);
        Start(runner, Launch(1));
        await _slurm.Entered.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);
        runner.Stop(new AttemptKey(7, 1, 1), StopReasons.Cancelled);
        _slurm.SubmitGate.Release();

        var job = await Submitted();
        Assert.Equal(job.Id, await _slurm.Cancelled.Reader.ReadAsync(new CancellationTokenSource(Patience).Token));
        Assert.Equal(StopReasons.Cancelled, (await sink.Next()).StopReason);
    }

    [Fact]
    public async Task A_stop_before_its_sbatch_means_it_is_never_submitted()
    {
        var settings = _settings with { SubmitParallel = 1 };
        var sink = new Sink();
        var runner = new SlurmJobRunner(_home, SlurmRunnerBackend.Detect(_slurm, settings), settings, _slurm, sink, TextWriter.Null);
        _runners.Add(runner);
        _slurm.SubmitGate = new SemaphoreSlim(0);
        Start(runner, Launch(1));
        await _slurm.Entered.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);
        Start(runner, Launch(2));
        runner.Stop(new AttemptKey(7, 2, 1), StopReasons.Cancelled);
        _slurm.SubmitGate.Release(2);

        var ended = await sink.Next();
        Assert.Equal(new AttemptKey(7, 2, 1), ended.Key);
        Assert.Equal(StopReasons.Cancelled, ended.StopReason);
        Assert.Equal("7.1.1.job", (await Submitted()).Name.Split('.', 3)[2]);
        Assert.DoesNotContain(_slurm.Jobs.Values, job => job.Name.Contains(".7.2.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_submission_fails_the_attempt_quoting_Slurm_and_queues_nothing()
    {
        var (runner, sink) = NewRunner();
        _slurm.Refusal = "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified";
        Start(runner, Launch(1));

        var ended = await sink.Next();
        Assert.Null(ended.ExitCode);
        Assert.StartsWith("SlurmSubmitRefused: ", ended.Error);
        Assert.Contains("Invalid account", ended.Error);
        Assert.Empty(_slurm.Jobs);
        Assert.Contains("Invalid account", File.ReadAllText(SlurmLayout.Output(ended.Log!, LogStream.Stderr)));
    }

    [Theory]
    [InlineData(false, "afterok")]
    [InlineData(true, "afterany")]
    public async Task A_job_started_after_its_parents_is_submitted_once_they_have_ids_with_a_dependency_on_them(bool alwaysRun, string kind)
    {
        var (runner, sink) = NewRunner();
        _slurm.SubmitGate = new SemaphoreSlim(0);
        Start(runner, Launch(1));
        Start(runner, Launch(2));
        Start(runner, Launch(3) with { After = [new AttemptKey(7, 1, 1), new AttemptKey(7, 2, 1)], AfterAny = alwaysRun });
        await _slurm.Entered.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);
        await _slurm.Entered.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);
        // The child's sbatch waits for both parents' answers: it has not entered sbatch.
        Assert.False(_slurm.Entered.Reader.TryRead(out _));
        _slurm.SubmitGate.Release(3);

        var parents = new[] { await Submitted(), await Submitted() }.OrderBy(j => j.Name, StringComparer.Ordinal).Select(j => j.Id).ToList();
        var child = await Submitted();
        Assert.EndsWith(".7.3.1.job", child.Name);
        Assert.Contains($"--dependency={kind}:{string.Join(':', parents)}", child.Request.Options);
        Assert.Contains("--kill-on-invalid-dep=yes", child.Request.Options);
        Assert.DoesNotContain(_slurm.Jobs[parents[0]].Request.Options, o => o.StartsWith("--dependency", StringComparison.Ordinal));
        _slurm.Set(child.Id, "COMPLETED", 0);
        Assert.Equal(0, (await sink.Next()).ExitCode);
    }

    [Fact]
    public async Task A_job_after_a_parent_whose_sbatch_was_refused_is_never_submitted()
    {
        var (runner, sink) = NewRunner();
        _slurm.Refusal = "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified";
        Start(runner, Launch(1));
        Start(runner, Launch(2) with { After = [new AttemptKey(7, 1, 1)] });

        var ends = new[] { await sink.Next(), await sink.Next() }.ToDictionary(e => e.Key.JobId);
        Assert.StartsWith("SlurmSubmitRefused: ", ends[1].Error);
        Assert.Equal(StopReasons.DependencyNeverSatisfied, ends[2].StopReason);
        Assert.Null(ends[2].Error);
        Assert.Equal(1, _slurm.SubmitCalls);
    }

    [Theory]
    [InlineData("DependencyNeverSatisfied", StopReasons.DependencyNeverSatisfied, null)]
    [InlineData("None", null, "SlurmCancelled")]
    public async Task A_dependent_Slurm_cancelled_because_its_parent_failed_ends_as_never_satisfied(string reason, string? stop, string? errorId)
    {
        var (runner, sink) = NewRunner();
        Start(runner, Launch(1));
        var parent = await Submitted();
        Start(runner, Launch(2) with { After = [new AttemptKey(7, 1, 1)] });
        var child = await Submitted();

        _slurm.Set(parent.Id, "FAILED", 1);
        _slurm.Set(child.Id, "CANCELLED", 0, reason);

        var ends = new[] { await sink.Next(), await sink.Next() }.ToDictionary(e => e.Key.JobId);
        Assert.Equal(1, ends[1].ExitCode);
        Assert.Equal(stop, ends[2].StopReason);
        if (errorId is null) Assert.Null(ends[2].Error);
        else Assert.StartsWith(errorId + ":", ends[2].Error);
    }

    [Fact]
    public async Task A_job_after_a_parent_the_runner_adopted_depends_on_the_adopted_id()
    {
        var (first, _) = NewRunner();
        Start(first, Launch(1));
        var parent = await Submitted();
        first.Dispose();
        _slurm.Set(parent.Id, "RUNNING");

        var (second, _) = NewRunner();
        var recovered = second.Recover(new Dictionary<long, string?> { [7] = null }).Single();
        second.Adopt(Launch(1), recovered);
        Start(second, Launch(2) with { After = [new AttemptKey(7, 1, 1)] });

        Assert.Contains($"--dependency=afterok:{parent.Id}", (await Submitted()).Request.Options);
    }

    [Fact]
    public async Task A_refusal_is_never_retried()
    {
        var (runner, sink) = NewRunner();
        _slurm.Refusal = "sbatch: error: invalid partition specified: nosuch";
        Start(runner, Launch(1));

        Assert.StartsWith("SlurmSubmitRefused: ", (await sink.Next()).Error);
        Assert.Equal(1, _slurm.SubmitCalls);
    }

    [Theory]
    [InlineData("sbatch: error: Batch job submission failed: Socket timed out on send/recv operation")]
    [InlineData("sbatch: error: Batch job submission failed: Resource temporarily unavailable")]
    [InlineData("sbatch: error: Slurm controller not responding, sleeping and retrying.")]
    [InlineData("sbatch: error: Unable to contact slurm controller (connect failure)")]
    public async Task Sbatch_is_tried_again_while_Slurm_cannot_be_reached_and_the_job_is_queued_once(string message)
    {
        var (runner, sink) = NewRunner();
        _slurm.Unavailable.Enqueue(message);
        _slurm.Unavailable.Enqueue(message);
        Start(runner, Launch(1));

        var job = await Submitted();
        Assert.Equal(3, _slurm.SubmitCalls);
        _slurm.Set(job.Id, "COMPLETED", 0);
        Assert.Equal(0, (await sink.Next()).ExitCode);
        Assert.Single(_slurm.Jobs);
        Assert.Contains("Q 1 1 " + job.Id, File.ReadAllText(SlurmLayout.Ledger(_home, 7)));
    }

    [Fact]
    public async Task A_timed_out_sbatch_that_queued_the_job_anyway_is_found_by_name_not_submitted_again()
    {
        var (runner, sink) = NewRunner();
        _slurm.QueuesDespiteTimeout = true;
        _slurm.Unavailable.Enqueue("sbatch: error: Batch job submission failed: Socket timed out on send/recv operation");
        Start(runner, Launch(1));

        var job = await Submitted();
        _slurm.Set(job.Id, "COMPLETED", 0);
        Assert.Equal(0, (await sink.Next()).ExitCode);
        Assert.Equal(1, _slurm.SubmitCalls);
        Assert.Single(_slurm.Jobs);
        Assert.Contains("Q 1 1 " + job.Id, File.ReadAllText(SlurmLayout.Ledger(_home, 7)));
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_attempt_then_fails_quoting_Slurm()
    {
        var (runner, sink) = NewRunner();
        for (var i = 0; i < _settings.SubmitRetries + 1; i++) _slurm.Unavailable.Enqueue("sbatch: error: Resource temporarily unavailable");
        Start(runner, Launch(1));

        var ended = await sink.Next();
        Assert.StartsWith(SlurmTransientErrors.ErrorId + ": ", ended.Error);
        Assert.Contains("Resource temporarily unavailable", ended.Error);
        Assert.Equal(_settings.SubmitRetries + 1, _slurm.SubmitCalls);
        Assert.Empty(_slurm.Jobs);
    }

    [Theory]
    [InlineData("sbatch: error: Socket timed out on send/recv operation", true)]
    [InlineData("sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified", false)]
    [InlineData("sbatch: error: Memory specification can not be satisfied", false)]
    public void Only_the_controller_being_away_counts_as_transient(string message, bool transient) =>
        Assert.Equal(transient, SlurmTransientErrors.IsTransient(message));

    [Fact]
    public void The_back_off_doubles_and_is_capped()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), SlurmTransientErrors.Delay(TimeSpan.FromSeconds(1), 1));
        Assert.Equal(TimeSpan.FromSeconds(4), SlurmTransientErrors.Delay(TimeSpan.FromSeconds(1), 3));
        Assert.Equal(TimeSpan.FromSeconds(30), SlurmTransientErrors.Delay(TimeSpan.FromSeconds(1), 12));
    }

    [Fact]
    public async Task A_variable_name_that_is_not_plain_fails_the_attempt_and_is_never_submitted()
    {
        var (runner, sink) = NewRunner();
        Start(runner, Launch(1) with { Environment = [new("SBATCH_X=1 EVIL", "x")] });

        var ended = await sink.Next();
        Assert.StartsWith("StartFailed: ", ended.Error);
        Assert.Contains("SBATCH_X=1 EVIL", ended.Error);
        Assert.Empty(_slurm.Jobs);
    }

    [Fact]
    public async Task The_timeout_runs_from_when_Slurm_starts_the_job()
    {
        var (runner, sink) = NewRunner();
        Start(runner, Launch(1, timeout: TimeSpan.FromMilliseconds(50)));
        var job = await Submitted();
        _slurm.Set(job.Id, "RUNNING");

        Assert.Equal(job.Id, await _slurm.Cancelled.Reader.ReadAsync(new CancellationTokenSource(Patience).Token));
        Assert.Equal(StopReasons.Timeout, (await sink.Next()).StopReason);
    }

    [Fact]
    public async Task A_restarted_runner_finds_every_job_by_name_or_ledger_and_submits_none_again()
    {
        var (first, _) = NewRunner();
        foreach (var jobId in new[] { 1, 2, 3 }) Start(first, Launch(jobId));
        var jobs = new Dictionary<int, FakeSlurm.Job>();
        for (var i = 0; i < 3; i++)
        {
            var job = await Submitted();
            jobs[int.Parse(job.Name.Split('.')[3], System.Globalization.CultureInfo.InvariantCulture)] = job;
        }
        first.Dispose();
        _slurm.Set(jobs[1].Id, "RUNNING");
        _slurm.Set(jobs[2].Id, "COMPLETED", 0);
        _slurm.Purge(jobs[2].Id);
        // The crash between sbatch answering and the ledger line: job 3 is known only by its name.
        var ledger = SlurmLayout.Ledger(_home, 7);
        File.WriteAllLines(ledger, File.ReadAllLines(ledger).Where(line => !line.StartsWith("Q 3 ", StringComparison.Ordinal)));
        // Someone else's job, and a job of this home's finished batch 6, share the cluster.
        _slurm.Jobs["900"] = new FakeSlurm.Job { Id = "900", Name = "ar.0000000000.7.1.1.x", Request = jobs[1].Request, Script = "" };
        _slurm.Jobs["901"] = new FakeSlurm.Job { Id = "901", Name = SlurmLayout.NamePrefix(_home) + "6.1.1.old", Request = jobs[1].Request, Script = "" };

        var (second, sink) = NewRunner();
        var recovered = second.Recover(new Dictionary<long, string?> { [7] = null }).ToDictionary(a => a.Key.JobId);

        Assert.Equal(3, recovered.Count);
        Assert.True(recovered[1].StillRunning);
        Assert.False(recovered[2].StillRunning);
        Assert.Equal(0, recovered[2].ExitCode);
        Assert.True(recovered[3].StillRunning);
        Assert.Equal(5, _slurm.Jobs.Count);
        Assert.Equal("PENDING", _slurm.Jobs["900"].State);
        Assert.Equal("CANCELLED", _slurm.Jobs["901"].State);

        second.Adopt(Launch(1), recovered[1]);
        second.Adopt(Launch(3), recovered[3]);
        _slurm.Set(jobs[3].Id, "FAILED", 2);
        _slurm.Set(jobs[1].Id, "COMPLETED", 0);
        var ends = new[] { await sink.Next(), await sink.Next() }.ToDictionary(e => e.Key.JobId);
        Assert.Equal(0, ends[1].ExitCode);
        Assert.Equal(2, ends[3].ExitCode);
        Assert.Equal(5, _slurm.Jobs.Count);
    }

    [Fact]
    public void Capacity_is_the_partitions_largest_node_and_the_queue_holds_many_partitions()
    {
        _slurm.NodeList.Clear();
        _slurm.NodeList.AddRange([new("small", 4, 8000, 0), new("big", 32, 256_000, 0)]);

        var capacity = SlurmRunnerBackend.Detect(_slurm, _settings);

        Assert.Equal(32, capacity.LargestJob.Cpu);
        Assert.Equal(256_000L * 1024 * 1024, capacity.LargestJob.MemoryBytes);
        Assert.True(capacity.AtOnce.Cpu >= 36 * 10);
    }

    [Theory]
    [InlineData("768", 3)]
    [InlineData("0", 0)]
    [InlineData("9", 137)]
    public void Wait_statuses_become_exit_codes(string status, int code) => Assert.Equal(code, SlurmJobStates.FromWaitStatus(status));

    [Theory]
    [InlineData("3:0", 3)]
    [InlineData("0:15", 143)]
    public void Sacct_exit_codes_become_exit_codes(string text, int code) => Assert.Equal(code, SlurmJobStates.FromCodeAndSignal(text));

    [Theory]
    [InlineData("dataset", "fewgenomes", "fewgenomes")]
    [InlineData("dataset", null, null)]
    [InlineData("none", "fewgenomes", null)]
    [InlineData("lab", "fewgenomes", "lab")]
    public void The_account_is_the_dataset_unless_the_settings_say_otherwise(string setting, string? dataset, string? account) =>
        Assert.Equal(account, new SlurmSettings { Account = setting }.AccountFor(dataset));

    public void Dispose()
    {
        foreach (var runner in _runners) runner.Dispose();
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }
}

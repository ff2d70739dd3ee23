using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Tests.Batch.Store;

public sealed class SqliteBatchStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ar-store-" + Guid.NewGuid().ToString("N"));
    private readonly RunnerDatabase _db;
    private readonly SqliteBatchStore _store;

    public SqliteBatchStoreTests()
    {
        _db = new RunnerDatabase(new RunnerHome(_root));
        _store = new SqliteBatchStore(_db);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static JobSpec Job(int index, params string[] commands) => new() { Index = index, Name = "j" + index, Commands = commands };

    private static BatchSpec Batch(params JobSpec[] jobs) => new() { Name = "b", TmpRoot = "/tmp/x", Jobs = jobs, ArGuid = "guid-1" };

    [Fact]
    public void Parents_come_from_depends_on_and_from_resources_used_in_commands_and_outputs()
    {
        var id = _store.Submit(Batch(
            Job(0, $"echo > {ResourcePlaceholder.ForJob(0, "a")}"),
            Job(1, $"echo > {ResourcePlaceholder.ForJob(1, "b")}"),
            Job(2, $"cat {ResourcePlaceholder.ForJob(0, "a")} {ResourcePlaceholder.ForJob(0, "a")} > {ResourcePlaceholder.ForJob(2, "c")}") with
            {
                DependsOn = [1],
                Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(2, "c"), "gs://b/c")],
            },
            Job(3, $"cat {ResourcePlaceholder.ForJob(2, "grp", "bam")} {ResourcePlaceholder.ForInput(0)}")));

        var jobs = _store.GetJobs(id);

        Assert.Equal([[], [], [1, 2], [3]], jobs.Select(j => j.Parents.ToArray()));
        Assert.Equal([JobState.Ready, JobState.Ready, JobState.Pending, JobState.Pending], jobs.Select(j => j.State));
        Assert.Equal([1, 1, 1, 1], jobs.Select(j => j.Attempt));
        Assert.Contains($"/tmp/x/{id}/1.a", jobs[2].Command);
        Assert.DoesNotContain("{{ar:", jobs[2].Command);
    }

    [Fact]
    public void A_batch_reads_back_with_its_counters_from_any_store_instance()
    {
        var before = DateTimeOffset.UtcNow;
        var id = _store.Submit(Batch(Job(0, "true"), Job(1, "true") with { DependsOn = [0], Cpu = 2, MemoryBytes = 5, AlwaysRun = true }));
        var after = DateTimeOffset.UtcNow;

        var batch = new SqliteBatchStore(new RunnerDatabase(new RunnerHome(_root))).GetBatch(id)!;

        Assert.Equal((BatchState.Running, 2, 2, 0), (batch.State, batch.TotalJobs, batch.PendingJobs, batch.SucceededJobs));
        Assert.Equal("guid-1", batch.ArGuid);
        Assert.Equal(TimeSpan.Zero, batch.Created.Offset);
        Assert.InRange(batch.Created, before, after);
        var job = _store.GetJob(id, 2)!;
        Assert.Equal((2.0, 5L, true), (job.Cpu, job.MemoryBytes, job.AlwaysRun));
        Assert.Null(_store.GetJob(id, 3));
        Assert.Null(_store.GetBatch(id + 1));
    }

    [Fact]
    public void A_listing_counts_each_batchs_jobs_by_state_and_a_limit_keeps_the_newest()
    {
        var first = _store.Submit(Batch(Job(0, "a"), Job(1, "b"), Job(2, "c")));
        var second = _store.Submit(Batch(Job(0, "d")));
        var third = _store.Submit(Batch(Job(0, "e"), Job(1, "f")));
        using (var ledger = new Core.Batch.Execution.SqliteJobLedger(_db))
            ledger.Write([new(first, 1, JobState.Succeeded, 1), new(first, 2, JobState.Running, 1), new(first, 3, JobState.Failed, 1, ExitCode: 2),
                          new(third, 2, JobState.Cancelled, 1)], [], []);

        var all = _store.FindBatches(new BatchQuery());
        var newest = _store.FindBatches(new BatchQuery { First = 2 });

        Assert.Equal([third, second, first], all.Select(b => b.Id));
        Assert.Equal((0, 1, 1, 1, 0), Counts(all[2]));
        Assert.Equal((1, 0, 0, 0, 0), Counts(all[1]));
        Assert.Equal((1, 0, 0, 0, 1), Counts(all[0]));
        Assert.Equal([third, second], newest.Select(b => b.Id));
        Assert.Equal(Counts(all[0]), Counts(newest[0]));

        static (int, int, int, int, int) Counts(BatchInfo b) => (b.PendingJobs, b.RunningJobs, b.SucceededJobs, b.FailedJobs, b.CancelledJobs);
    }

    [Fact]
    public void A_job_not_yet_run_shows_its_command_resolved_and_the_variables_it_will_get()
    {
        var spec = Batch(
            Job(0, $"echo hi > {ResourcePlaceholder.ForJob(0, "out")}") with { Environment = new Dictionary<string, string> { ["GREETING"] = "hi", ["AR_JOB_ID"] = "forged" } },
            Job(1, $"cat {ResourcePlaceholder.ForJob(0, "out")}")) with { TmpRoot = "/tmp/ar-tmp", ConfigPath = "/configs/run.toml" };

        var id = _store.Submit(spec);
        var first = _store.GetJob(id, 1)!;
        var second = _store.GetJob(id, 2)!;

        Assert.Equal($"echo hi > /tmp/ar-tmp/{id}/1.out", first.Command);
        Assert.Equal($"cat /tmp/ar-tmp/{id}/1.out", second.Command);
        Assert.Equal("hi", first.Environment["GREETING"]);
        Assert.Equal("1", first.Environment["AR_JOB_ID"]);
        Assert.Equal(id.ToString(), first.Environment["AR_BATCH_ID"]);
        Assert.Equal("1", first.Environment["AR_ATTEMPT"]);
        Assert.Equal("/configs/run.toml", first.Environment["CPG_CONFIG_PATH"]);
        Assert.Equal(_root, first.Environment["AR_HOME"]);
        Assert.False(second.Environment.ContainsKey("GREETING"));
    }

    [Fact]
    public void A_drivers_command_shows_each_step_the_runner_takes_before_it_runs()
    {
        var checkout = new CheckoutSpec("https://github.com/org/repo.git", new string('c', 40), "examples/batch");
        var id = _store.Submit(Batch(Job(0, "pwsh -NoProfile -NonInteractive -File hello.ps1") with { Checkout = checkout }));

        var lines = _store.GetJob(id, 1)!.Command.Split('\n');

        Assert.Equal(5, lines.Length);
        Assert.StartsWith("# 1. credentials: ", lines[0]);
        Assert.StartsWith($"# 2. clone {checkout.CloneUrl} into repo", lines[1]);
        Assert.StartsWith($"# 3. checkout {checkout.Commit} (detached)", lines[2]);
        Assert.StartsWith("# 4. cd repo/examples/batch", lines[3]);
        Assert.Equal("pwsh -NoProfile -NonInteractive -File hello.ps1", lines[4]);
    }

    [Fact]
    public void Find_filters_by_run_and_state_newest_first()
    {
        var a = _store.Submit(Batch(Job(0, "true")));
        var b = _store.Submit(Batch(Job(0, "true")) with { ArGuid = "guid-2" });
        var c = _store.Submit(Batch(Job(0, "true")));
        var empty = _store.Submit(Batch() with { ArGuid = "guid-3" });

        Assert.Equal([c, a], _store.FindBatches(new BatchQuery { ArGuid = "guid-1" }).Select(x => x.Id));
        Assert.Equal([c], _store.FindBatches(new BatchQuery { ArGuid = "guid-1", First = 1 }).Select(x => x.Id));
        Assert.Equal([b], _store.FindBatches(new BatchQuery { Ids = [b, 999] }).Select(x => x.Id));
        Assert.Equal([empty], _store.FindBatches(new BatchQuery { State = BatchState.Succeeded }).Select(x => x.Id));
    }

    [Fact]
    public void A_submit_in_the_callers_transaction_disappears_when_it_rolls_back()
    {
        using (var connection = _db.Open())
        using (var transaction = connection.BeginTransaction())
        {
            _store.Submit(Batch(Job(0, "true")), connection, transaction);
            transaction.Rollback();
        }

        Assert.Empty(_store.FindBatches(new BatchQuery()));
    }

    [Fact]
    public void Cancel_is_recorded_and_an_unknown_batch_is_refused()
    {
        var id = _store.Submit(Batch(Job(0, "true")));

        _store.RequestCancel(id);

        Assert.True(_store.GetBatch(id)!.CancelRequested);
        var error = Assert.Throws<AnalysisRunnerException>(() => _store.RequestCancel(id + 5));
        Assert.Equal("BatchNotFound", error.ErrorId);
    }

    [Fact]
    public void Bucket_uris_map_into_the_home_and_cannot_escape_it()
    {
        var home = new RunnerHome(_root);

        Assert.Equal(Path.Combine(_root, "buckets", "cpg-x-main", "a", "b.txt"), ResourcePaths.ToLocalPath(home, "gs://cpg-x-main/a/b.txt"));
        Assert.Equal("/data/in.vcf", ResourcePaths.ToLocalPath(home, "/data/in.vcf"));
        Assert.Throws<StorageException>(() => ResourcePaths.ToLocalPath(home, "gs://cpg-x-main/../../etc/passwd"));
        Assert.Throws<StorageException>(() => ResourcePaths.ToLocalPath(home, "relative/path"));
    }

    [Fact]
    public void Placeholders_resolve_to_quoted_paths_for_resources_groups_and_inputs()
    {
        var paths = new ResourcePaths(new RunnerHome(_root), 4, "gs://tmp-bucket/run 1",
            [new InputSpec { Index = 0, Path = "gs://in/x.txt" }, new InputSpec { Index = 1, Group = new Dictionary<string, string> { ["bai"] = "/d/x.bai" } }]);
        var groups = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["aln"] = new Dictionary<string, string> { ["bam"] = "{root}.bam" } };

        var resolved = paths.ResolveCommand(
            $"tool {ResourcePlaceholder.ForJob(2, "out")} {ResourcePlaceholder.ForJob(2, "aln", "bam")} {ResourcePlaceholder.ForJob(2, "aln")} {ResourcePlaceholder.ForInput(0)} {ResourcePlaceholder.ForInput(1, "bai")}",
            _ => groups);

        // Job index 2 is job id 3: its resources are 3.<name> in the batch's folder, no folder per job.
        var root = Path.Combine(_root, "buckets", "tmp-bucket", "run 1", "4");
        Assert.Equal($"tool '{root}/3.out' '{root}/3.aln.bam' '{root}/3.aln' {_root}/buckets/in/x.txt /d/x.bai", resolved);
    }
}

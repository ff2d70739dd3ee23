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
        Assert.Contains("{{ar:0:a}}", jobs[2].Command);
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
    public void Log_paths_are_per_attempt_in_one_folder_per_batch()
    {
        var paths = _store.GetLogPaths(7, 3, 2);

        Assert.Equal(Path.Combine(_root, "logs", "7", "3.2.out"), paths.Stdout);
        Assert.Equal(Path.Combine(_root, "logs", "7", "3.2.err"), paths.Stderr);
    }

    [Fact]
    public void The_exit_ledger_gives_each_attempt_its_last_status_and_ignores_a_torn_line()
    {
        var ledger = JobLogFiles.ExitLedgerPath(new RunnerHome(_root), 7);
        Directory.CreateDirectory(Path.GetDirectoryName(ledger)!);
        File.WriteAllText(ledger, "3 1 1\n12 1 0\n3 2 0\n4 1 13");

        Assert.Equal(1, JobLogFiles.ReadExitStatus(new RunnerHome(_root), 7, 3, 1));
        Assert.Equal(0, JobLogFiles.ReadExitStatus(new RunnerHome(_root), 7, 3, 2));
        Assert.Equal(0, JobLogFiles.ReadExitStatus(new RunnerHome(_root), 7, 12, 1));
        Assert.Null(JobLogFiles.ReadExitStatus(new RunnerHome(_root), 7, 4, 1));
        Assert.Null(JobLogFiles.ReadExitStatus(new RunnerHome(_root), 7, 5, 1));
    }

    [Fact]
    public void Batches_from_the_folder_per_job_layout_keep_their_logs_and_statuses()
    {
        var home = new RunnerHome(_root);
        var legacy = Path.Combine(_root, "logs", "8", "3");
        Directory.CreateDirectory(legacy);
        File.WriteAllText(Path.Combine(legacy, "2.out"), "old output\n");
        File.WriteAllText(Path.Combine(legacy, "2.exit"), "4\n");

        Assert.Equal(Path.Combine(legacy, "2.out"), JobLogFiles.Find(home, 8, 3, 2).Stdout);
        Assert.Equal(Path.Combine(legacy, "2.err"), JobLogFiles.Find(home, 8, 3, 2).Stderr);
        Assert.Equal(4, JobLogFiles.ReadExitStatus(home, 8, 3, 2));
        Assert.Equal(Path.Combine(_root, "logs", "8", "3.1.out"), JobLogFiles.Find(home, 8, 3, 1).Stdout);
        // A new attempt is always written in the current layout.
        Assert.Equal(Path.Combine(_root, "logs", "8", "3.2.out"), JobLogFiles.For(home, 8, 3, 2).Stdout);
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

        var root = Path.Combine(_root, "buckets", "tmp-bucket", "run 1", "4", "2");
        Assert.Equal($"tool '{root}/out' '{root}/aln.bam' '{root}/aln' {_root}/buckets/in/x.txt /d/x.bai", resolved);
    }
}

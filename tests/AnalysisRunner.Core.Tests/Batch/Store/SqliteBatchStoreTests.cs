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

    /// <summary>What the contract (BatchStoreContract) does not cover: SQLite's own transactional Submit, and path rules.</summary>
    private static JobSpec Job(int index, params string[] commands) => new() { Index = index, Name = "j" + index, Commands = commands };

    private static BatchSpec Batch(params JobSpec[] jobs) => new() { Name = "b", TmpRoot = "/tmp/x", Jobs = jobs, ArGuid = "guid-1" };

    [Fact]
    public async Task A_submit_in_the_callers_transaction_disappears_when_it_rolls_back()
    {
        using (var connection = _db.Open())
        using (var transaction = connection.BeginTransaction())
        {
            _store.Submit(Batch(Job(0, "true")), connection, transaction);
            transaction.Rollback();
        }

        Assert.Empty(await _store.FindBatchesAsync(new BatchQuery()));
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

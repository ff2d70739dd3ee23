using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// GET /api/v1/batches lists the newest batches the caller may read: `first` counts readable batches,
/// so another dataset's many newer batches never crowd out the caller's older ones, and `beforeId`
/// pages on from the last id of a page without skipping or repeating a batch.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class BatchListingTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Alice = "alice@example.org";
    private const string Bob = "bob@example.org";

    /// <summary>More than a few of the server's reads by keyset, so alice's batches are only reached after several.</summary>
    private const int BobsBatches = 450;

    private readonly GitFixture _git = new();
    private readonly string _root = Path.Combine("/tmp", "ar-list-" + Guid.NewGuid().ToString("N")[..10]);
    private string _main = "";
    private TestHome? _home;
    private RunningServer? _server;
    private HttpRunnerClient? _alice;
    private HttpRunnerClient? _bob;

    private RunningServer Server => _server!;
    private HttpRunnerClient AliceClient => _alice!;
    private HttpRunnerClient BobClient => _bob!;

    public async Task InitializeAsync()
    {
        _git.CommitFile("scripts/hello.sh", "#!/bin/bash\necho \"Hello, $1!\"\n", executable: true);
        _main = _git.Head();
        _git.Push();
        Directory.CreateDirectory(_root);
        File.WriteAllText(Path.Combine(_root, "registry.toml"), $"""
            default_image = "registry.example.org/approved/driver:1"
            image_prefixes = ["registry.example.org/approved/"]

            [datasets.alices]
            repositories = ["{_git.OriginPath}"]

            [datasets.alices.members]
            test = ["{Alice}"]

            [datasets.bobs]
            repositories = ["{_git.OriginPath}"]

            [datasets.bobs.members]
            test = ["{Bob}"]
            """);
        _home = new TestHome(_root, sandbox: "none");
        if (PostgresCluster.MissingReason is not null) return;
        _server = await RunningServer.StartAsync(await postgres.CreateDatabaseAsync(), null, "--runner:home=" + _root);
        _alice = new HttpRunnerClient(new ServerConnection(Server.Address, (await Server.IssueAsync(Alice)).Token));
        _bob = new HttpRunnerClient(new ServerConnection(Server.Address, (await Server.IssueAsync(Bob)).Token));
    }

    public async Task DisposeAsync()
    {
        _alice?.Dispose();
        _bob?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        _home?.Dispose();
        _git.Dispose();
    }

    private async Task<RunRecord> SubmitAsync(HttpRunnerClient client, string dataset) =>
        await client.SubmitRunAsync(await client.PlanRunAsync(new SubmissionFacts
        {
            Dataset = dataset,
            AccessLevel = AccessLevel.Test,
            Description = "listing",
            OutputDir = "out",
            Script = "hello.sh",
            ScriptArguments = ["world"],
            RepositoryUrl = _git.OriginPath,
            Commit = _main,
            Cwd = "scripts",
        }));

    /// <summary>Sub-batches of a run, as its driver would submit them (empty, so they land finished and the executor has nothing to do).</summary>
    private List<long> SubBatches(RunRecord run, int count) =>
        Enumerable.Range(0, count).Select(i => _home!.Store.Submit(new BatchSpec { Name = "sub" + i, TmpRoot = _home.TmpRoot, Jobs = [], ArGuid = run.ArGuid })).ToList();

    /// <summary>Alice's run and its sub-batches, then bob's run with many more, all newer than hers: alice's ids, newest first.</summary>
    private async Task<List<long>> AlicesBatchesUnderBobsAsync()
    {
        var alices = await SubmitAsync(AliceClient, "alices");
        var aliceIds = SubBatches(alices, 3).Prepend(alices.DriverBatchId).Reverse().ToList();
        SubBatches(await SubmitAsync(BobClient, "bobs"), BobsBatches);
        return aliceIds;
    }

    [BackendFact]
    public async Task First_counts_batches_the_caller_may_read_so_another_datasets_newer_batches_do_not_hide_hers()
    {
        var aliceIds = await AlicesBatchesUnderBobsAsync();

        var newest = await AliceClient.FindBatchesAsync(new BatchQuery { First = 2 });
        var all = await AliceClient.FindBatchesAsync(new BatchQuery { First = 100 });
        var bobs = await BobClient.FindBatchesAsync(new BatchQuery { First = 2 });

        Assert.Equal(aliceIds.Take(2), newest.Select(batch => batch.Id));
        Assert.Equal(aliceIds, all.Select(batch => batch.Id));
        Assert.Equal(2, bobs.Count);
        Assert.All(bobs, batch => Assert.DoesNotContain(batch.Id, aliceIds));
        Assert.True(bobs[0].Id > bobs[1].Id);
    }

    [BackendFact]
    public async Task Pages_by_beforeId_cover_each_readable_batch_once_newest_first()
    {
        var aliceIds = await AlicesBatchesUnderBobsAsync();

        var paged = new List<long>();
        long? before = null;
        for (var pages = 0; pages < 10; pages++)
        {
            var page = await AliceClient.FindBatchesAsync(new BatchQuery { First = 3, BeforeId = before });
            paged.AddRange(page.Select(batch => batch.Id));
            if (page.Count < 3) break;
            before = page[^1].Id;
        }

        Assert.Equal(aliceIds, paged);
        // A page starting inside bob's batches still finds hers below them.
        Assert.Equal(aliceIds.Take(1), (await AliceClient.FindBatchesAsync(new BatchQuery { First = 1, BeforeId = aliceIds[0] + BobsBatches })).Select(batch => batch.Id));
    }
}

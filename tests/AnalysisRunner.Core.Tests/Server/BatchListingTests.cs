using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Runs;
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

    private readonly ServerWorld _world = new("ar-list-");
    private string _main = "";
    private HttpRunnerClient? _alice;
    private HttpRunnerClient? _bob;

    private HttpRunnerClient AliceClient => _alice!;
    private HttpRunnerClient BobClient => _bob!;

    public async Task InitializeAsync()
    {
        _main = _world.CommitHello();
        await _world.StartAsync(postgres, _world.Dataset("alices", Alice) + _world.Dataset("bobs", Bob), sandbox: "none");
        if (_world.Server is not { } server) return;
        _alice = new HttpRunnerClient(new ServerConnection(server.Address, (await server.IssueAsync(Alice)).Token));
        _bob = new HttpRunnerClient(new ServerConnection(server.Address, (await server.IssueAsync(Bob)).Token));
    }

    public async Task DisposeAsync()
    {
        _alice?.Dispose();
        _bob?.Dispose();
        await _world.DisposeAsync();
    }

    private static async Task<RunRecord> SubmitAsync(HttpRunnerClient client, SubmissionFacts facts) =>
        await client.SubmitRunAsync(await client.PlanRunAsync(facts));

    /// <summary>Sub-batches of a run, as its driver would submit them (empty, so they land finished and the executor has nothing to do).</summary>
    private async Task<List<long>> SubBatchesAsync(RunRecord run, int count)
    {
        var ids = new List<long>();
        for (var i = 0; i < count; i++)
            ids.Add(await _world.Home!.Store.SubmitAsync(new BatchSpec { Name = "sub" + i, TmpRoot = _world.Home.TmpRoot, Jobs = [], ArGuid = run.ArGuid }));
        return ids;
    }

    /// <summary>Alice's run and its sub-batches, then bob's run with many more, all newer than hers: alice's ids, newest first.</summary>
    private async Task<List<long>> AlicesBatchesUnderBobsAsync()
    {
        var alices = await SubmitAsync(AliceClient, _world.HelloFacts(_main, "alices"));
        var aliceIds = (await SubBatchesAsync(alices, 3)).Prepend(alices.DriverBatchId).Reverse().ToList();
        await SubBatchesAsync(await SubmitAsync(BobClient, _world.HelloFacts(_main, "bobs")), BobsBatches);
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

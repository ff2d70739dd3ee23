using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Usage;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// Get-AnalysisUsage over the server: the usage page's figures as JSON, for the namespaces the caller
/// may read, and for no one else's dataset.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class UsageEndpointTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Alice = "alice@example.org";
    private const string Bob = "bob@example.org";
    private readonly ServerWorld _world = new("ar-usage-", batchesInPostgres: true);
    private string _main = "";

    public async Task InitializeAsync()
    {
        _main = _world.CommitHello();
        await _world.StartAsync(postgres, _world.Dataset("fewgenomes", Alice) + _world.Dataset("bobsdata", Bob), "none");
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [BackendFact]
    public async Task A_member_reads_her_datasets_usage_by_day_user_and_batch_as_the_page_counts_it()
    {
        using var alice = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Alice)).Token));
        var run = await alice.SubmitRunAsync(await alice.PlanRunAsync(_world.HelloFacts(_main)));
        await foreach (var _ in alice.WatchAsync([run.DriverBatchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(60) })) { }
        var since = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);

        var byDay = Assert.Single(await alice.GetUsageAsync("fewgenomes", since, UsageGrouping.Day));
        var byUser = Assert.Single(await alice.GetUsageAsync("fewgenomes", since, UsageGrouping.User));
        var byBatch = Assert.Single(await alice.GetUsageAsync("fewgenomes", since, UsageGrouping.Batch));

        Assert.Equal((UsageGrouping.Day, DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), 1),
            (byDay.By, byDay.Key, byDay.Jobs));
        Assert.Equal((UsageGrouping.User, Alice), (byUser.By, byUser.Key));
        Assert.Equal(run.DriverBatchId.ToString(System.Globalization.CultureInfo.InvariantCulture), byBatch.Key);
        Assert.True(byDay.WallSeconds > 0, $"the driver's wall time was not counted: {byDay}");
        Assert.Empty(await alice.GetUsageAsync("fewgenomes", DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1), UsageGrouping.Day));
    }

    [BackendFact]
    public async Task Another_datasets_usage_and_an_unknown_datasets_are_refused_alike()
    {
        using var alice = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Alice)).Token));
        var since = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);

        var theirs = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => alice.GetUsageAsync("bobsdata", since, UsageGrouping.Day));
        var unknown = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => alice.GetUsageAsync("nosuchdata", since, UsageGrouping.Day));

        Assert.Equal(("NotADatasetMember", ErrorKind.PermissionDenied), (theirs.ErrorId, theirs.Kind));
        Assert.Equal(("NotADatasetMember", ErrorKind.PermissionDenied), (unknown.ErrorId, unknown.Kind));
        using var anonymous = _world.Server.Client();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync(RunRoutes.Usage("fewgenomes"))).StatusCode);
    }
}

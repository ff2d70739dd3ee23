using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Usage;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// Get-AnalysisUsage over the server: the usage page's figures as JSON, for the namespaces the caller
/// may read, and for no one else's dataset; never further back than the settings' [usage] max_days
/// (30 here, so the client's default first day is the oldest allowed).
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
        await _world.StartAsync(postgres, _world.Dataset("fewgenomes", Alice) + _world.Dataset("bobsdata", Bob), "none", "--usage:max_days=30");
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
        Assert.Single(await alice.GetUsageAsync("fewgenomes", DatasetUsage.DefaultSince(), UsageGrouping.Day));
    }

    [BackendFact]
    public async Task A_first_day_further_back_than_max_days_or_in_the_future_is_400_naming_the_day_given_and_the_days_allowed()
    {
        using var http = _world.Server!.Client((await _world.Server.IssueAsync(Alice)).Token);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Day(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var allowed = $"give a day from {Day(today.AddDays(-30))} to {Day(today)} (UTC)";

        var ever = await ProblemAssert.IsProblemAsync(await http.GetAsync(RunRoutes.Usage("fewgenomes") + "?since=0001-01-01"),
            400, "UsageWindowTooLong", ErrorKind.InvalidArgument);
        var aDayTooFar = await ProblemAssert.IsProblemAsync(await http.GetAsync(RunRoutes.Usage("fewgenomes") + $"?since={Day(today.AddDays(-31))}&by=Batch"),
            400, "UsageWindowTooLong", ErrorKind.InvalidArgument);
        var future = await ProblemAssert.IsProblemAsync(await http.GetAsync(RunRoutes.Usage("fewgenomes") + $"?since={Day(today.AddDays(1))}"),
            400, "UsageSinceInFuture", ErrorKind.InvalidArgument);

        Assert.Equal("0001-01-01", ever.GetProperty("target").GetString());
        Assert.Contains("Usage since 0001-01-01 reaches back", ever.GetProperty("detail").GetString());
        Assert.Contains("at most 30 days back: " + allowed, ever.GetProperty("detail").GetString());
        Assert.Equal(Day(today.AddDays(-31)), aDayTooFar.GetProperty("target").GetString());
        Assert.Contains(allowed, future.GetProperty("detail").GetString());
        // The oldest day allowed is answered, and the typed client gets the problem back as the same error.
        using var client = new HttpRunnerClient(new ServerConnection(_world.Server.Address, (await _world.Server.IssueAsync(Alice)).Token));
        Assert.Empty(await client.GetUsageAsync("fewgenomes", today.AddDays(-30), UsageGrouping.User));
        var refused = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => client.GetUsageAsync("fewgenomes", new DateOnly(1, 1, 1), UsageGrouping.Day));
        Assert.Equal(("UsageWindowTooLong", ErrorKind.InvalidArgument, (object?)"0001-01-01"), (refused.ErrorId, refused.Kind, refused.Target));
    }

    [BackendFact]
    public async Task A_non_member_is_told_403_before_anything_about_the_window()
    {
        using var alice = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Alice)).Token));
        var refused = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => alice.GetUsageAsync("bobsdata", new DateOnly(1, 1, 1), UsageGrouping.Day));
        Assert.Equal("NotADatasetMember", refused.ErrorId);
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

using AnalysisRunner.Core.Policy;
using AnalysisRunner.Server.Hosting;
using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>The audit log's keyset paging and the read rule, without a server.</summary>
public sealed class RunPagingTests : IDisposable
{
    private readonly WebWorld _world = new();
    private readonly RunnerReader _reader;

    public RunPagingTests()
    {
        _reader = new RunnerReader(new RunnerHomeAccess(new ServerSettings { RunnerHome = _world.HomePath }));
    }

    [Fact]
    public async Task Pages_walk_every_run_once_newest_first_even_when_runs_share_a_millisecond()
    {
        var same = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var guids = new List<string>();
        for (var i = 0; i < 5; i++) guids.Add((await _world.AddRunAsync(description: "run " + i, timestamp: same)).ArGuid);
        for (var i = 0; i < 2; i++) guids.Add((await _world.AddRunAsync(description: "later " + i, timestamp: same.AddMinutes(i + 1))).ArGuid);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await _reader.QueryRunsAsync(WebWorld.Alice, "fewgenomes", "test", new RunFilter { Cursor = cursor }, pageSize: 2);
            Assert.InRange(page.Runs.Count, 1, 2);
            seen.AddRange(page.Runs.Select(run => run.ArGuid));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(4, pages);
        Assert.Equal(guids.Count, seen.Count);
        Assert.Equal(guids.Order(), seen.Order());
        Assert.Equal(guids[6], seen[0]);
        Assert.Equal(guids[5], seen[1]);
    }

    [Fact]
    public async Task A_text_filter_pages_over_the_matching_runs_only()
    {
        var at = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 6; i++) await _world.AddRunAsync(description: (i % 2 == 0 ? "align " : "other ") + i, timestamp: at);

        var first = await _reader.QueryRunsAsync(WebWorld.Alice, "fewgenomes", "test", new RunFilter { Text = "ALIGN" }, pageSize: 2);
        var second = await _reader.QueryRunsAsync(WebWorld.Alice, "fewgenomes", "test", new RunFilter { Text = "ALIGN", Cursor = first.NextCursor }, pageSize: 2);

        Assert.Equal(["align 4", "align 2"], first.Runs.Select(run => run.Description));
        Assert.Equal(["align 0"], second.Runs.Select(run => run.Description));
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task A_cursor_that_is_not_one_is_refused_as_InvalidCursor()
    {
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() =>
            _reader.QueryRunsAsync(WebWorld.Alice, "fewgenomes", "test", new RunFilter { Cursor = "1; DROP TABLE audit_log" }));
        Assert.Equal("InvalidCursor", error.ErrorId);
    }

    [Theory]
    [InlineData("alice@example.org", "fewgenomes", "test", true)]
    [InlineData("ALICE@example.org", "fewgenomes", "main", true)]
    [InlineData("bob@example.org", "fewgenomes", "test", false)]
    [InlineData("alice@example.org", "othergenomes", "test", false)]
    [InlineData("alice@example.org", "nosuchdataset", "test", false)]
    [InlineData("alice@example.org", "fewgenomes", "tmp", false)]
    public void Members_of_a_namespace_read_it_and_nobody_else_does(string user, string dataset, string ns, bool allowed)
    {
        var registry = _world.Deployment.LoadRegistry();
        Assert.Equal(allowed, DatasetReadAccess.MayRead(registry, user, dataset, ns));
        if (!allowed)
            Assert.Equal("NotADatasetMember", Assert.Throws<PolicyViolationException>(() => DatasetReadAccess.Check(registry, user, dataset, ns)).ErrorId);
    }

    [Fact]
    public void A_test_only_member_does_not_read_the_main_namespace()
    {
        var registry = DatasetRegistry.Parse("""
            [datasets.d]
            repositories = ["o/r"]
            [datasets.d.members]
            test = ["tess@example.org"]
            """, "test registry");
        Assert.True(DatasetReadAccess.MayRead(registry, "tess@example.org", "d", "test"));
        Assert.False(DatasetReadAccess.MayRead(registry, "tess@example.org", "d", "main"));
    }

    [Theory]
    [InlineData("qc/report.html")]
    [InlineData("")]
    [InlineData("qc/")]
    public void Plain_paths_in_the_web_bucket_pass(string path) =>
        Assert.Equal(path, WebBucketEndpoint.CheckPath("/web/d/test/" + path, path));

    [Theory]
    [InlineData("/web/d/test/../x", "../x")]
    [InlineData("/web/d/test/a/./x", "a/./x")]
    [InlineData("/web/d/test/%2e%2e/x", "../x")]
    [InlineData("/web/d/test/a%2Fb", "a/b")]
    [InlineData("/web/d/test/a%5cb", "a\\b")]
    [InlineData("/web/d/test/a%00", "a\0")]
    [InlineData("/web/d/test//etc/passwd", "/etc/passwd")]
    [InlineData("/web/d/test/a//b", "a//b")]
    public void Every_spelling_of_leaving_the_bucket_is_InvalidWebPath(string rawTarget, string path) =>
        Assert.Equal("InvalidWebPath", Assert.Throws<AnalysisRunnerException>(() => WebBucketEndpoint.CheckPath(rawTarget, path)).ErrorId);

    public void Dispose() => _world.Dispose();
}

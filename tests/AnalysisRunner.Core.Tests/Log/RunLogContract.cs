using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.Runs;
using AnalysisRunner.Core.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Tests.Log;

/// <summary>
/// What every IRunLog does, run against each backend (the embedded SQLite home, PostgreSQL with the
/// home as its executor's batch store): a submission is all or nothing, queries filter and page, the
/// chain holds under concurrent appends, and dispatch never makes a second driver batch.
/// </summary>
public abstract class RunLogContract : IDisposable
{
    private readonly TempFolder _home = new("ar-runlog");
    private long _clock = DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    protected RunLogContract()
    {
        Deployment = Deployment.Open(new RunnerHome(_home.Path), new RecordingExecutor());
    }

    /// <summary>The runner home whose batch store runs the driver batches.</summary>
    protected Deployment Deployment { get; private set; }

    /// <summary>The home's batch database, if <see cref="UseBatchDatabaseAsync"/> named one (to close its pool at the end).</summary>
    protected string? BatchDatabase { get; private set; }

    /// <summary>Puts the home's batches in PostgreSQL ([batches] database) and opens the home again; before anything is written.</summary>
    protected async Task UseBatchDatabaseAsync(string connectionString)
    {
        BatchDatabase = connectionString;
        await File.AppendAllTextAsync(Deployment.Home.SettingsPath, $"\n[batches]\ndatabase = '{connectionString}'\n");
        Deployment = Deployment.Open(new RunnerHome(_home.Path), new RecordingExecutor());
        Assert.IsType<PostgresBatchStore>(Deployment.Batches);
    }

    /// <summary>The store under test, over this test's database.</summary>
    protected abstract IRunLog Log { get; }

    /// <summary>How many run configs the store of record holds.</summary>
    protected abstract Task<int> CountStoredConfigsAsync();

    protected RunSubmission Submission(string dataset = "fewgenomes", string user = "alice@example.org", AccessLevel level = AccessLevel.Test,
        DateTimeOffset? at = null, string? arGuid = null, string config = "[workflow]\nname = 'x'\n")
    {
        arGuid ??= Guid.NewGuid().ToString();
        var timestamp = at ?? DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Increment(ref _clock)).ToOffset(TimeSpan.FromHours(2));
        var configPath = Deployment.Configs.PathFor(arGuid);
        var run = new RunRecord
        {
            ArGuid = arGuid,
            Timestamp = timestamp,
            User = user,
            Dataset = dataset,
            AccessLevel = level,
            Repository = "org/repo",
            Commit = new string('a', 40),
            Cwd = "scripts",
            Script = "hello.sh",
            ScriptArguments = ["it's", "$(whoami)", "`x`\nnext"],
            Description = "d",
            OutputPrefix = "out",
            OutputDir = $"{dataset}-test/out",
            ConfigPath = configPath,
            Cpu = 0.1,
            Memory = "1Gi",
            Environment = new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" },
            ConfigFiles = ["u.toml"],
            ConfigSnapshots = [new ConfigSnapshot("u.toml", "[c]\nv = 1\n")],
        };
        var batch = new BatchSpec
        {
            Name = $"{dataset}: d",
            ArGuid = arGuid,
            ConfigPath = configPath,
            TmpRoot = Path.Combine(_home.Path, "tmp"),
            Attributes = RunAuthority.RunAttributes(run),
            Jobs = [new JobSpec { Index = 0, Name = RunAuthority.DriverJobName, Commands = ["true"] }],
        };
        return new RunSubmission(run, config, batch);
    }

    protected async Task<List<RunRecord>> QueryAsync(LogQuery query)
    {
        var runs = new List<RunRecord>();
        await foreach (var run in Log.QueryAsync(query)) runs.Add(run);
        return runs;
    }

    protected async Task<List<RunRecord>> ChainAsync()
    {
        var runs = new List<RunRecord>();
        await foreach (var run in Log.ReadChainAsync()) runs.Add(run);
        return runs;
    }

    protected async Task<IReadOnlyList<BatchInfo>> BatchesAsync(string? arGuid = null) => await Deployment.Batches.FindBatchesAsync(new BatchQuery { ArGuid = arGuid });

    [BackendFact]
    public async Task An_append_logs_the_run_chained_with_its_config_and_driver_batch()
    {
        var submission = Submission();
        var logged = await Log.AppendAsync(submission);

        Assert.Equal(AuditChain.Genesis, logged.PreviousHash);
        Assert.NotNull(logged.EntryHash);
        var batch = Assert.Single(await BatchesAsync(logged.ArGuid));
        Assert.Equal(batch.Id, logged.DriverBatchId);
        var found = await Log.FindAsync(logged.ArGuid);
        Assert.NotNull(found);
        Assert.Equal(logged.DriverBatchId, found.DriverBatchId);
        Assert.Equal(submission.Run.ScriptArguments, found.ScriptArguments);
        Assert.Equal(submission.Run.Timestamp, found.Timestamp);
        Assert.Equal(submission.Run.Timestamp.Offset, found.Timestamp.Offset);
        Assert.Equal(submission.Run.ConfigSnapshots, found.ConfigSnapshots);
        Assert.Equal(1, await CountStoredConfigsAsync());
        // The executor reads the config where the run says it is.
        Assert.Equal(1L, (long)((Tomlyn.Model.TomlTable)(await Deployment.ReadConfigAsync(found.ConfigPath))["workflow"]).Count);
        Assert.True(AuditChain.Verify(await ChainAsync()).Valid);
    }

    [BackendFact]
    public async Task Queries_filter_by_each_field_newest_first()
    {
        var start = DateTimeOffset.Parse("2026-11-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var a = await Log.AppendAsync(Submission(dataset: "fewgenomes", user: "alice@example.org", level: AccessLevel.Test, at: start));
        var b = await Log.AppendAsync(Submission(dataset: "fewgenomes", user: "bob@example.org", level: AccessLevel.Standard, at: start.AddHours(1)));
        var c = await Log.AppendAsync(Submission(dataset: "othergenomes", user: "alice@example.org", level: AccessLevel.Full, at: start.AddHours(2)));

        string[] Guids(IEnumerable<RunRecord> runs) => runs.Select(run => run.ArGuid).ToArray();
        Assert.Equal([c.ArGuid, b.ArGuid, a.ArGuid], Guids(await QueryAsync(new LogQuery())));
        Assert.Equal([b.ArGuid, a.ArGuid], Guids(await QueryAsync(new LogQuery { Dataset = "fewgenomes" })));
        Assert.Equal([c.ArGuid, a.ArGuid], Guids(await QueryAsync(new LogQuery { User = "alice@example.org" })));
        Assert.Equal([b.ArGuid], Guids(await QueryAsync(new LogQuery { AccessLevel = AccessLevel.Standard })));
        Assert.Equal([a.ArGuid], Guids(await QueryAsync(new LogQuery { ArGuid = a.ArGuid })));
        Assert.Equal([b.ArGuid], Guids(await QueryAsync(new LogQuery { After = start.AddMinutes(30), Before = start.AddHours(2) })));
        Assert.Equal([c.ArGuid], Guids(await QueryAsync(new LogQuery { First = 1 })));
        Assert.Empty(await QueryAsync(new LogQuery { Dataset = "fewgenomes", User = "carol@example.org" }));
        Assert.Equal("InvalidFirst", Assert.Throws<AnalysisRunnerException>(() => Log.QueryAsync(new LogQuery { First = -1 })).ErrorId);
    }

    [BackendFact]
    public async Task Keyset_pages_walk_every_run_once_even_within_one_millisecond()
    {
        var same = DateTimeOffset.Parse("2026-11-02T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var expected = new List<string>();
        for (var i = 0; i < 7; i++)
            expected.Insert(0, (await Log.AppendAsync(Submission(at: i is >= 2 and <= 5 ? same : same.AddMinutes(i)))).ArGuid);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await AuditLogPaging.PageAsync(Log, new LogQuery { First = 3 }, cursor);
            Assert.InRange(page.Runs.Count, 1, 3);
            seen.AddRange(page.Runs.Select(run => run.ArGuid));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        // Newest first by time; within one millisecond, the later append first.
        Assert.Equal(expected.Count, seen.Count);
        Assert.Equal(expected.ToHashSet(), seen.ToHashSet());
        Assert.Equal((await QueryAsync(new LogQuery())).Select(run => run.ArGuid), seen);
    }

    [BackendFact]
    public async Task Fifty_concurrent_appends_make_one_unbroken_chain_and_fifty_driver_batches()
    {
        var appended = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => Log.AppendAsync(Submission()))));

        var chain = await ChainAsync();
        Assert.Equal(50, chain.Count);
        var verdict = AuditChain.Verify(chain);
        Assert.True(verdict.Valid, verdict.Reason);
        Assert.Equal(appended.Select(run => run.ArGuid).ToHashSet(), chain.Select(run => run.ArGuid).ToHashSet());
        Assert.Equal(50, chain.Select(run => run.PreviousHash).Distinct().Count());
        Assert.Equal(50, (await BatchesAsync()).Count);
        Assert.Equal(appended.Select(run => run.DriverBatchId).Order(), (await BatchesAsync()).Select(batch => batch.Id).Order());
        Assert.Equal(50, await CountStoredConfigsAsync());
    }

    [BackendFact]
    public async Task A_failed_append_leaves_no_row_config_or_batch()
    {
        var first = await Log.AppendAsync(Submission(config: "[workflow]\nname = 'first'\n"));

        var again = Submission(arGuid: first.ArGuid, config: "[workflow]\nname = 'second'\n");
        await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => Log.AppendAsync(again));

        Assert.Single(await ChainAsync());
        Assert.Equal(1, await CountStoredConfigsAsync());
        Assert.Single(await BatchesAsync());
        var config = await Deployment.ReadConfigAsync(first.ConfigPath);
        Assert.Equal("first", ((Tomlyn.Model.TomlTable)config["workflow"])["name"]);
        Assert.True(AuditChain.Verify(await ChainAsync()).Valid);
    }

    [BackendFact]
    public async Task Dispatching_again_never_creates_a_second_driver_batch()
    {
        var logged = await Log.AppendAsync(Submission());

        Assert.Equal(0, await Log.DispatchPendingAsync());
        Assert.Equal(0, await Log.DispatchPendingAsync());

        var batch = Assert.Single(await BatchesAsync(logged.ArGuid));
        Assert.Equal(batch.Id, (await Log.FindAsync(logged.ArGuid))!.DriverBatchId);
    }

    /// <summary>A submission key as the server makes one: the client's value, and the fingerprint of the request it came with.</summary>
    protected static SubmissionKey Key(string value, string request = "the request") => SubmissionKey.ForRerun(value, request);

    [BackendFact]
    public async Task A_key_sent_twice_by_one_user_logs_one_run_and_answers_it_both_times()
    {
        var key = Key("retry-key-0000000001");
        var first = await Log.AppendAsync(Submission() with { Key = key });

        var again = await Log.AppendAsync(Submission() with { Key = key });

        Assert.Equal((first.ArGuid, first.DriverBatchId, first.EntryHash), (again.ArGuid, again.DriverBatchId, again.EntryHash));
        Assert.Single(await ChainAsync());
        Assert.Single(await BatchesAsync());
        Assert.Equal(1, await CountStoredConfigsAsync());
        var found = await Log.FindByKeyAsync("alice@example.org", key.Value);
        Assert.Equal((first.ArGuid, key.RequestHash), (found?.Run.ArGuid, found?.RequestHash));
    }

    [BackendFact]
    public async Task A_key_sent_with_another_request_is_IdempotencyKeyReused_and_writes_nothing()
    {
        var first = await Log.AppendAsync(Submission() with { Key = Key("retry-key-0000000002", "first request") });

        var reused = await Assert.ThrowsAsync<AnalysisRunnerException>(
            () => Log.AppendAsync(Submission() with { Key = Key("retry-key-0000000002", "another request") }));

        Assert.Equal(("IdempotencyKeyReused", ErrorKind.InvalidOperation, "retry-key-0000000002"), (reused.ErrorId, reused.Kind, reused.Target as string));
        Assert.Equal([first.ArGuid], (await ChainAsync()).Select(run => run.ArGuid));
        Assert.Single(await BatchesAsync());
        Assert.Equal(1, await CountStoredConfigsAsync());
    }

    [BackendFact]
    public async Task Keys_are_scoped_per_user_so_another_users_same_key_is_their_own_run()
    {
        var key = Key("retry-key-0000000003");
        var alices = await Log.AppendAsync(Submission(user: "alice@example.org") with { Key = key });

        var bobs = await Log.AppendAsync(Submission(user: "bob@example.org") with { Key = key });

        Assert.NotEqual(alices.ArGuid, bobs.ArGuid);
        Assert.Equal("bob@example.org", bobs.User);
        Assert.Equal(2, (await ChainAsync()).Count);
        Assert.Equal(bobs.ArGuid, (await Log.FindByKeyAsync("bob@example.org", key.Value))?.Run.ArGuid);
        Assert.Equal(alices.ArGuid, (await Log.FindByKeyAsync("alice@example.org", key.Value))?.Run.ArGuid);
        Assert.Null(await Log.FindByKeyAsync("carol@example.org", key.Value));
    }

    [BackendFact]
    public async Task Ten_concurrent_appends_with_one_key_log_one_run_and_all_answer_it()
    {
        var key = Key("retry-key-0000000004");

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => Log.AppendAsync(Submission() with { Key = key }))));

        var logged = Assert.Single(await ChainAsync());
        Assert.All(answers, answer => Assert.Equal(logged.ArGuid, answer.ArGuid));
        Assert.Single(await BatchesAsync());
        Assert.Equal(1, await CountStoredConfigsAsync());
        Assert.True(AuditChain.Verify(await ChainAsync()).Valid);
    }

    [BackendFact]
    public async Task Cancelling_a_run_that_has_its_driver_batch_withholds_nothing()
    {
        var logged = await Log.AppendAsync(Submission());

        Assert.False(await Log.CancelPendingDispatchAsync(logged.ArGuid));
        Assert.False(await Log.CancelPendingDispatchAsync(Guid.NewGuid().ToString()));
        Assert.False(await Log.IsDriverBatchWithheldAsync(logged.ArGuid));

        Assert.Equal(logged.DriverBatchId, (await Log.FindAsync(logged.ArGuid))!.DriverBatchId);
        Assert.False((await Log.FindAsync(logged.ArGuid))!.DriverBatchWithheld);
    }

    public virtual void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _home.Dispose();
        GC.SuppressFinalize(this);
    }
}

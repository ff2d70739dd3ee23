using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Server.Hosting;
using AnalysisRunner.Server.Web;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// Submissions over HTTP carry an Idempotency-Key: the same user's key twice is one run (one audit
/// row, config and driver batch) answered twice; with another body it is 409 IdempotencyKeyReused;
/// another user's same key is their own run; a malformed key is 400. A submission whose answer is
/// lost after the server committed is retried by the client with its key and gets the run that was
/// made. And a run cancelled before its driver batch exists never gets one.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class IdempotentSubmissionTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Alice = "alice@example.org";
    private const string Bob = "bob@example.org";
    private readonly ServerWorld _world = new("ar-idem-");
    private string _main = "";
    private string _aliceToken = "";
    private string _bobToken = "";

    private RunningServer Server => _world.Server!;

    public async Task InitializeAsync()
    {
        _main = _world.CommitHello();
        await _world.StartAsync(postgres, _world.Dataset("fewgenomes", Alice, Bob), sandbox: "none");
        if (_world.Server is null) return;
        _aliceToken = (await Server.IssueAsync(Alice)).Token;
        _bobToken = (await Server.IssueAsync(Bob)).Token;
    }

    public Task DisposeAsync() => _world.DisposeAsync().AsTask();

    private SubmissionFacts Facts(string description = "hello") => _world.HelloFacts(_main, description: description);

    private sealed record Answer(HttpStatusCode Status, string Body)
    {
        public RunRecord Run => JsonSerializer.Deserialize<RunRecord>(Body, ApiJson.Options)!;
    }

    private async Task<Answer> PostAsync(string token, string path, SubmissionFacts? facts, params string[] keys)
    {
        using var client = Server.Client(token);
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (facts is not null) request.Content = JsonContent.Create(facts, options: ApiJson.Options);
        if (keys.Length > 0) request.Headers.TryAddWithoutValidation(ApiHeaders.IdempotencyKey, keys);
        using var response = await client.SendAsync(request);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<long> CountAsync(string table)
    {
        await using var connection = await Server.Database.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<IReadOnlyList<BatchInfo>> BatchesAsync() => await _world.Home!.Store.FindBatchesAsync(new BatchQuery());

    private async Task AssertStoredAsync(int runs)
    {
        Assert.Equal(runs, await CountAsync("audit_log"));
        Assert.Equal(runs, await CountAsync("run_configs"));
        Assert.Equal(runs, (await BatchesAsync()).Count);
    }

    [BackendFact]
    public async Task The_same_key_twice_is_one_audit_row_config_and_driver_batch_and_the_same_answer()
    {
        var key = SubmissionKey.NewValue();

        var first = await PostAsync(_aliceToken, RunRoutes.Runs, Facts(), key);
        var second = await PostAsync(_aliceToken, RunRoutes.Runs, Facts(), key);

        Assert.True(first.Status == HttpStatusCode.Created, first.Body);
        Assert.True(second.Status == HttpStatusCode.Created, second.Body);
        Assert.Equal((first.Run.ArGuid, first.Run.DriverBatchId, first.Run.EntryHash), (second.Run.ArGuid, second.Run.DriverBatchId, second.Run.EntryHash));
        Assert.NotEqual(0, first.Run.DriverBatchId);
        await AssertStoredAsync(runs: 1);
        Assert.Equal(first.Run.DriverBatchId, Assert.Single(await BatchesAsync()).Id);

        // Without a key, each submission is a run of its own, as before.
        var unkeyed = await PostAsync(_aliceToken, RunRoutes.Runs, Facts());
        Assert.True(unkeyed.Status == HttpStatusCode.Created, unkeyed.Body);
        Assert.NotEqual(first.Run.ArGuid, unkeyed.Run.ArGuid);
        await AssertStoredAsync(runs: 2);
    }

    [BackendFact]
    public async Task The_same_key_with_another_body_is_409_IdempotencyKeyReused_naming_the_key_and_writes_nothing()
    {
        var key = SubmissionKey.NewValue();
        var first = await PostAsync(_aliceToken, RunRoutes.Runs, Facts("first"), key);
        Assert.True(first.Status == HttpStatusCode.Created, first.Body);

        using var client = Server.Client(_aliceToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, RunRoutes.Runs) { Content = JsonContent.Create(Facts("second"), options: ApiJson.Options) };
        request.Headers.Add(ApiHeaders.IdempotencyKey, key);
        using var reused = await client.SendAsync(request);
        var problem = await ProblemAssert.IsProblemAsync(reused, 409, "IdempotencyKeyReused", ErrorKind.InvalidOperation);
        Assert.Equal(key, problem.GetProperty("target").GetString());

        // A re-run under a submission's key is another request too.
        var rerun = await PostAsync(_aliceToken, RunRoutes.Rerun(first.Run.ArGuid), null, key);
        Assert.Equal(HttpStatusCode.Conflict, rerun.Status);
        await AssertStoredAsync(runs: 1);
    }

    [BackendFact]
    public async Task Another_users_same_key_is_their_own_run_and_never_answers_the_first_users_run()
    {
        var key = SubmissionKey.NewValue();
        var alices = await PostAsync(_aliceToken, RunRoutes.Runs, Facts("alice's"), key);

        // The same body, even: keys are the caller's own, so this is bob's first use of it.
        var bobs = await PostAsync(_bobToken, RunRoutes.Runs, Facts("alice's"), key);

        Assert.True(bobs.Status == HttpStatusCode.Created, bobs.Body);
        Assert.NotEqual(alices.Run.ArGuid, bobs.Run.ArGuid);
        Assert.NotEqual(alices.Run.DriverBatchId, bobs.Run.DriverBatchId);
        Assert.Equal((Alice, Bob), (alices.Run.User, bobs.Run.User));
        Assert.DoesNotContain(alices.Run.ArGuid, bobs.Body, StringComparison.Ordinal);
        // And each of them sending it again gets their own run back.
        Assert.Equal(bobs.Run.ArGuid, (await PostAsync(_bobToken, RunRoutes.Runs, Facts("alice's"), key)).Run.ArGuid);
        Assert.Equal(alices.Run.ArGuid, (await PostAsync(_aliceToken, RunRoutes.Runs, Facts("alice's"), key)).Run.ArGuid);
        await AssertStoredAsync(runs: 2);
    }

    [BackendFact]
    public async Task A_malformed_key_is_400_InvalidIdempotencyKey_and_writes_nothing()
    {
        string[][] malformed =
        [
            ["short"],
            [new string('k', SubmissionKey.MaxLength + 1)],
            ["has spaces in it, and commas"],
            ["quote\"and;semicolon-0000000"],
            [SubmissionKey.NewValue(), SubmissionKey.NewValue()],
        ];
        foreach (var keys in malformed)
        {
            using var client = Server.Client(_aliceToken);
            using var request = new HttpRequestMessage(HttpMethod.Post, RunRoutes.Runs) { Content = JsonContent.Create(Facts(), options: ApiJson.Options) };
            request.Headers.TryAddWithoutValidation(ApiHeaders.IdempotencyKey, keys);
            using var response = await client.SendAsync(request);
            await ProblemAssert.IsProblemAsync(response, 400, "InvalidIdempotencyKey", ErrorKind.InvalidArgument);
        }
        await AssertStoredAsync(runs: 0);
    }

    [BackendFact]
    public async Task A_submission_whose_answer_is_lost_is_retried_with_its_key_and_gets_the_run_that_was_made()
    {
        using var lost = new AnswerLostOnce(RunRoutes.Runs);
        using var client = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), lost);

        var run = await client.SubmitRunAsync(await client.PlanRunAsync(Facts()));

        Assert.Equal(2, lost.Keys.Count);
        Assert.NotNull(lost.Keys[0]);
        Assert.Equal(lost.Keys[0], lost.Keys[1]);
        Assert.True(lost.AnswerLost);
        await AssertStoredAsync(runs: 1);
        var logged = Assert.Single((await client.QueryAuditLogAsync(new LogQuery(), null)).Runs);
        Assert.Equal((logged.ArGuid, logged.DriverBatchId), (run.ArGuid, run.DriverBatchId));
        Assert.Equal(run.DriverBatchId, Assert.Single(await BatchesAsync()).Id);

        // The next submission of the same client is a new run: a fresh key per submission.
        var next = await client.SubmitRunAsync(await client.PlanRunAsync(Facts()));
        Assert.NotEqual(run.ArGuid, next.ArGuid);
        Assert.NotEqual(lost.Keys[0], lost.Keys[^1]);
        await AssertStoredAsync(runs: 2);
    }

    [BackendFact]
    public async Task A_rerun_whose_answer_is_lost_is_retried_with_its_key_and_makes_one_run()
    {
        using var plain = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken));
        var original = await plain.SubmitRunAsync(await plain.PlanRunAsync(Facts()));
        using var lost = new AnswerLostOnce(RunRoutes.Rerun(original.ArGuid));
        using var client = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), lost);

        var rerun = await client.SubmitRunAsync(await client.PlanRerunAsync(original.ArGuid));

        Assert.True(lost.AnswerLost);
        Assert.Equal(2, lost.Keys.Count);
        Assert.Equal(lost.Keys[0], lost.Keys[1]);
        Assert.Equal(original.ArGuid, rerun.RerunOf);
        await AssertStoredAsync(runs: 2);
    }

    /// <summary>A retry policy whose waits are recorded and end at once (no time passes in the test).</summary>
    private static ServerRetry Recorded(List<TimeSpan> waits, List<ServerRetryNotice>? notices = null) => ServerRetry.Default with
    {
        Wait = (delay, _) =>
        {
            lock (waits) waits.Add(delay);
            return Task.CompletedTask;
        },
        Notify = notice =>
        {
            if (notices is not null) lock (notices) notices.Add(notice);
        },
    };

    [BackendFact]
    public async Task A_503_to_a_submission_is_sent_again_with_its_key_and_the_run_its_lost_commit_made_is_the_answer()
    {
        // The first 503 comes after the server committed (PostgreSQL's answer to COMMIT lost), the second before it; the third is answered.
        using var unavailable = new Unavailable(RunRoutes.Runs, [Unavailable.Mode.ForwardThen503, Unavailable.Mode.Answer503]);
        var waits = new List<TimeSpan>();
        var notices = new List<ServerRetryNotice>();
        using var client = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), unavailable, Recorded(waits, notices));

        var run = await client.SubmitRunAsync(await client.PlanRunAsync(Facts()));

        Assert.Equal(3, unavailable.Keys.Count);
        Assert.NotNull(unavailable.Keys[0]);
        Assert.All(unavailable.Keys, key => Assert.Equal(unavailable.Keys[0], key));
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], waits);
        Assert.Equal([1, 2], notices.Select(notice => notice.Retry));
        Assert.All(notices, notice => Assert.Equal("DatabaseUnavailable", notice.Answer.ErrorId));
        Assert.Contains("POST /api/v1/runs", notices[0].Message, StringComparison.Ordinal);
        await AssertStoredAsync(runs: 1);
        var logged = Assert.Single((await client.QueryAuditLogAsync(new LogQuery(), null)).Runs);
        Assert.Equal((logged.ArGuid, logged.DriverBatchId), (run.ArGuid, run.DriverBatchId));
    }

    [BackendFact]
    public async Task A_503_that_lasts_is_DatabaseUnavailable_after_the_retry_budget_and_Retry_After_sets_the_least_wait()
    {
        using var unavailable = new Unavailable(RunRoutes.Runs, Enumerable.Repeat(Unavailable.Mode.Answer503, 100).ToArray());
        var waits = new List<TimeSpan>();
        using var client = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), unavailable, Recorded(waits));

        var error = await Assert.ThrowsAsync<ServerProblemException>(async () => await client.SubmitRunAsync(await client.PlanRunAsync(Facts())));

        Assert.Equal(("DatabaseUnavailable", ErrorKind.ResourceUnavailable, 503), (error.ErrorId, error.Kind, error.Status));
        Assert.Equal(new[] { 1, 2, 4, 8, 8, 7 }.Select(seconds => TimeSpan.FromSeconds(seconds)), waits);
        Assert.Equal(waits.Count + 1, unavailable.Keys.Count);
        Assert.Single(unavailable.Keys.Distinct());
        await AssertStoredAsync(runs: 0);

        // A Retry-After longer than the backoff is waited; the budget still ends it.
        using var later = new Unavailable(RunRoutes.Runs, Enumerable.Repeat(Unavailable.Mode.Answer503, 100).ToArray(), retryAfterSeconds: 5);
        waits.Clear();
        using var patient = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), later, Recorded(waits));
        await Assert.ThrowsAsync<ServerProblemException>(async () => await patient.SubmitRunAsync(await patient.PlanRunAsync(Facts())));
        Assert.Equal(new[] { 5, 5, 5, 8, 7 }.Select(seconds => TimeSpan.FromSeconds(seconds)), waits);
    }

    [BackendFact]
    public async Task Reads_are_retried_after_a_503_but_a_cancel_is_not_sent_twice()
    {
        using var plain = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken));
        var original = await plain.SubmitRunAsync(await plain.PlanRunAsync(Facts()));
        using var reads = new Unavailable(RunRoutes.Batches, [Unavailable.Mode.Answer503], HttpMethod.Get);
        var waits = new List<TimeSpan>();
        using var reader = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), reads, Recorded(waits));

        Assert.Equal([original.DriverBatchId], (await reader.FindBatchesAsync(new BatchQuery())).Select(batch => batch.Id));
        Assert.Equal((2, 1), (reads.Keys.Count, waits.Count));

        using var cancels = new Unavailable(RunRoutes.CancelRun(original.ArGuid), [Unavailable.Mode.Answer503]);
        using var canceller = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), cancels, Recorded(waits));
        var refused = await Assert.ThrowsAsync<ServerProblemException>(() => canceller.CancelRunAsync(original.ArGuid));
        Assert.Equal(("DatabaseUnavailable", 1, 1), (refused.ErrorId, cancels.Keys.Count, waits.Count));
    }

    [BackendFact]
    public async Task Cancelling_a_submission_that_waits_out_503s_stops_it_at_once()
    {
        using var unavailable = new Unavailable(RunRoutes.Runs, Enumerable.Repeat(Unavailable.Mode.Answer503, 100).ToArray());
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var retry = ServerRetry.Default with
        {
            Wait = (_, cancellationToken) =>
            {
                waiting.TrySetResult();
                return Task.Delay(Timeout.Infinite, cancellationToken);
            },
        };
        using var client = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken), unavailable, retry);
        var plan = await client.PlanRunAsync(Facts());
        using var stop = new CancellationTokenSource();

        var submission = client.SubmitRunAsync(plan, stop.Token);
        await waiting.Task;
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => submission);
        Assert.Single(unavailable.Keys);
        await AssertStoredAsync(runs: 0);
    }

    [BackendFact]
    public async Task The_OpenAPI_document_shows_the_Idempotency_Key_header_on_submissions()
    {
        using var client = Server.Client();
        using var document = JsonDocument.Parse(await client.GetStringAsync(ApiRoutes.OpenApi));
        var paths = document.RootElement.GetProperty("paths");
        foreach (var path in new[] { RunRoutes.Runs, "/api/v1/runs/{arGuid}/rerun" })
        {
            var parameters = paths.GetProperty(path).GetProperty("post").GetProperty("parameters").EnumerateArray();
            var header = Assert.Single(parameters, parameter => parameter.GetProperty("name").GetString() == ApiHeaders.IdempotencyKey);
            Assert.Equal("header", header.GetProperty("in").GetString());
            Assert.Contains("IdempotencyKeyReused", header.GetProperty("description").GetString(), StringComparison.Ordinal);
        }
    }

    [BackendFact]
    public async Task Stopping_a_run_whose_driver_batch_is_not_created_yet_withholds_it_for_good()
    {
        var home = Server.Services.GetRequiredService<RunnerHomeAccess>().Deployment;
        var target = new FailsUntilCleared(new HomeDriverBatches(home));
        home.UseRunLog(new PostgresRunLog(Server.Database, target));
        using var client = new HttpRunnerClient(new ServerConnection(Server.Address, _aliceToken));
        var run = await client.SubmitRunAsync(await client.PlanRunAsync(Facts()));
        Assert.Equal(0, run.DriverBatchId);
        Assert.Empty(await BatchesAsync());

        var cancelled = await client.CancelRunAsync(run.ArGuid);

        Assert.True(cancelled.DriverBatchWithheld);
        Assert.Empty(cancelled.BatchIds);
        // Asked again, it says the same (not RunNotFound); a wait on it says there is nothing to wait for (not "pending").
        Assert.True((await client.CancelRunAsync(run.ArGuid)).DriverBatchWithheld);
        var wait = await Assert.ThrowsAsync<ServerProblemException>(async () =>
        {
            await foreach (var _ in client.WatchRunAsync(run.ArGuid, 0, new Core.Batch.Watching.WatchOptions())) { }
        });
        Assert.Equal(("DriverBatchWithheld", 409, run.ArGuid), (wait.ErrorId, wait.Status, wait.Target as string));
        target.Clear();
        Assert.Equal(0, await ServerHost.DispatchPendingRunsAsync(Server.Services));
        Assert.Empty(await BatchesAsync());
        Assert.Equal(0, (await home.RunLog.FindAsync(run.ArGuid))!.DriverBatchId);
        // A run that has its batch is cancelled as before.
        var other = await client.SubmitRunAsync(await client.PlanRunAsync(Facts("other")));
        var stopped = await client.CancelRunAsync(other.ArGuid);
        Assert.False(stopped.DriverBatchWithheld);
        Assert.Equal([other.DriverBatchId], stopped.BatchIds);

        // Get-AnalysisLog's page says which run was withheld (the API's run JSON carries it).
        var page = (await client.QueryAuditLogAsync(new LogQuery(), null)).Runs.ToDictionary(logged => logged.ArGuid);
        Assert.Equal((true, 0L), (page[run.ArGuid].DriverBatchWithheld, page[run.ArGuid].DriverBatchId));
        Assert.Equal((false, other.DriverBatchId), (page[other.ArGuid].DriverBatchWithheld, page[other.ArGuid].DriverBatchId));
        using var http = Server.Client(_aliceToken);
        using var json = JsonDocument.Parse(await http.GetStringAsync(RunRoutes.Runs + "?arGuid=" + run.ArGuid));
        Assert.True(json.RootElement.GetProperty("runs")[0].GetProperty("driverBatchWithheld").GetBoolean());
    }

    [BackendFact]
    public async Task The_OpenAPI_document_shows_whether_a_runs_driver_batch_was_withheld()
    {
        using var client = Server.Client();
        using var document = JsonDocument.Parse(await client.GetStringAsync(ApiRoutes.OpenApi));
        var run = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("RunRecord");
        Assert.Equal("boolean", run.GetProperty("properties").GetProperty("driverBatchWithheld").GetProperty("type").GetString());
    }

    /// <summary>Forwards the request; on the first POST to its path, drops the server's answer as a cut connection would.</summary>
    private sealed class AnswerLostOnce(string path) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _lost;

        public List<string?> Keys { get; } = [];
        public bool AnswerLost => Volatile.Read(ref _lost) == 1;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var matches = request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath == path;
            if (matches)
                lock (Keys) Keys.Add(request.Headers.TryGetValues(ApiHeaders.IdempotencyKey, out var values) ? string.Join(",", values) : null);
            var response = await base.SendAsync(request, cancellationToken);
            if (!matches || Interlocked.Exchange(ref _lost, 1) == 1) return response;
            // The server answered (its commit is done); the client never hears it.
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            response.Dispose();
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely.", new IOException("Connection reset by peer"));
        }
    }

    /// <summary>
    /// Requests to its path (POST unless told) are answered by the modes in turn, then forwarded: Answer503
    /// answers 503 DatabaseUnavailable without forwarding (PostgreSQL down before the request reached it);
    /// ForwardThen503 forwards and replaces the server's answer with that 503 (its COMMIT landed, its answer was lost).
    /// </summary>
    private sealed class Unavailable(string path, Unavailable.Mode[] modes, HttpMethod? method = null, int? retryAfterSeconds = null)
        : DelegatingHandler(new SocketsHttpHandler())
    {
        public enum Mode { Answer503, ForwardThen503 }

        /// <summary>The Idempotency-Key of each matching request, in order (null for none).</summary>
        public List<string?> Keys { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method != (method ?? HttpMethod.Post) || request.RequestUri!.AbsolutePath != path)
                return await base.SendAsync(request, cancellationToken);
            int index;
            lock (Keys)
            {
                Keys.Add(request.Headers.TryGetValues(ApiHeaders.IdempotencyKey, out var values) ? string.Join(",", values) : null);
                index = Keys.Count - 1;
            }
            if (index >= modes.Length) return await base.SendAsync(request, cancellationToken);
            if (modes[index] == Mode.ForwardThen503)
                (await base.SendAsync(request, cancellationToken)).Dispose();
            var problem = ProblemDocument.From(new AnalysisRunnerException("DatabaseUnavailable", ErrorKind.ResourceUnavailable, null,
                "PostgreSQL is not reachable (injected)."));
            var answer = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            {
                Content = JsonContent.Create(problem, mediaType: new System.Net.Http.Headers.MediaTypeHeaderValue(ProblemDocument.MediaType), options: ApiJson.Options),
                RequestMessage = request,
            };
            if (retryAfterSeconds is { } seconds) answer.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
            return answer;
        }
    }

    /// <summary>The runner home's batch store, failing every dispatch until the test clears the fault.</summary>
    private sealed class FailsUntilCleared(IDriverBatchTarget inner) : IDriverBatchTarget
    {
        public RunEntrySeal Seal => inner.Seal;

        private volatile bool _broken = true;

        public void Clear() => _broken = false;

        public Task<long> EnsureDriverBatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default) =>
            _broken ? throw new IOException("injected: the runner home's batch store is not writable")
                : inner.EnsureDriverBatchAsync(run, configToml, driverBatch, cancellationToken);

        public Task CancelDriverBatchAsync(string arGuid, CancellationToken cancellationToken = default) => inner.CancelDriverBatchAsync(arGuid, cancellationToken);
    }
}

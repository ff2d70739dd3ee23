using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Tests.Runs;

/// <summary>The run capability as a job (or anyone who got hold of its environment) might try to forge it.</summary>
public sealed class RunTokensTests : IDisposable
{
    private readonly AuthorityWorld _world = new();
    private readonly RunRecord _run;

    public RunTokensTests() => _run = _world.Authority.SubmitAsync(_world.Facts(), _world.Caller).GetAwaiter().GetResult();

    public void Dispose() => _world.Dispose();

    private async Task<AnalysisRunnerException> RefusedAsync(string token, string errorId = "InvalidRunToken")
    {
        var ex = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => _world.Deployment.RunTokens.VerifyAsync(token));
        Assert.Equal(errorId, ex.ErrorId);
        return ex;
    }

    [Fact]
    public async Task A_token_the_runner_issued_verifies_to_its_logged_run()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);

        var verified = await _world.Deployment.RunTokens.VerifyAsync(token);

        Assert.Equal(_run.ArGuid, verified.ArGuid);
        Assert.Equal(("fewgenomes", AccessLevel.Test), (verified.Dataset, verified.AccessLevel));
        Assert.StartsWith(_run.ArGuid + ".", token);
        Assert.DoesNotContain(Convert.ToBase64String(File.ReadAllBytes(_world.Home.RunTokenKeyPath)), token);
    }

    [Fact]
    public async Task Forged_tokens_are_refused()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        var signature = token[(token.LastIndexOf('.') + 1)..];

        await RefusedAsync(_run.ArGuid);
        await RefusedAsync(_run.ArGuid + ".");
        await RefusedAsync(_run.ArGuid + "." + new string('A', signature.Length));
        await RefusedAsync(_run.ArGuid + "." + signature[..^2] + (signature[^2] == 'A' ? "B" : "A") + signature[^1]);
        await RefusedAsync(Guid.NewGuid() + "." + signature);
        await RefusedAsync("../../x." + signature);
        await RefusedAsync(new string('x', 2000));
        await RefusedAsync("");
    }

    [Fact]
    public async Task A_token_signed_with_another_homes_key_is_refused()
    {
        using var other = new AuthorityWorld();
        await RefusedAsync(RunTokens.Issue(other.Home, _run.ArGuid));
    }

    [Fact]
    public async Task A_genuine_token_for_a_run_that_is_not_logged_grants_nothing()
    {
        await RefusedAsync(RunTokens.Issue(_world.Home, Guid.NewGuid().ToString()));
    }

    [Fact]
    public async Task A_token_of_a_run_whose_entry_was_edited_grants_nothing()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        _world.Sql($"UPDATE audit_log SET access_level = 'full' WHERE ar_guid = '{_run.ArGuid}'");

        await RefusedAsync(token, "AuditChainBroken");
    }

    [Fact]
    public void The_key_is_the_owners_alone()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_world.Home.RunTokenKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_world.Home.KeysDirectory));
        Assert.Equal(32, File.ReadAllBytes(_world.Home.RunTokenKeyPath).Length);
    }

    [Fact]
    public void A_key_others_can_read_is_refused()
    {
        var home = new RunnerHome(Path.Combine(_world.HomePath, "open-home"));
        HomeInitializer.EnsureInitialized(home);
        File.SetUnixFileMode(home.RunTokenKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var ex = Assert.Throws<AnalysisRunnerException>(() => RunTokens.Issue(home, "g"));

        Assert.Equal("KeyFileTooOpen", ex.ErrorId);
    }
}

/// <summary>A run's token expires with its run: honoured while any of its batches runs, and for a grace after the last one finished.</summary>
public sealed class RunTokenExpiryTests : IDisposable
{
    private readonly AuthorityWorld _world = new();
    private readonly RunRecord _run;
    private readonly TestSupport.ManualClock _clock = new();
    private readonly RunBatches _batches = new();

    public RunTokenExpiryTests() => _run = _world.Authority.SubmitAsync(_world.Facts(), _world.Caller).GetAwaiter().GetResult();

    public void Dispose() => _world.Dispose();

    /// <summary>The run's batches as the test sets them: each running, or finished at a time.</summary>
    private sealed class RunBatches : Core.Batch.IBatchStore
    {
        public List<Core.Batch.BatchInfo> Batches { get; } = [];
        public Task<long> SubmitAsync(Core.Batch.BatchSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<Core.Batch.BatchInfo?> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
            Task.FromResult(Batches.FirstOrDefault(b => b.Id == batchId));
        public Task<IReadOnlyList<Core.Batch.BatchInfo>> FindBatchesAsync(Core.Batch.BatchQuery query, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Core.Batch.BatchInfo>>(Batches.Where(b => b.ArGuid == query.ArGuid).ToList());
        public Task<IReadOnlyList<Core.Batch.JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Core.Batch.JobInfo>>([]);
        public Task<Core.Batch.JobInfo?> GetJobAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
            Task.FromResult<Core.Batch.JobInfo?>(null);
        public Task RequestCancelAsync(long batchId, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task<IReadOnlyList<Core.Batch.JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Core.Batch.JobAttempt>>([]);
        public Task RemoveAsync(long batchId, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private Core.Batch.BatchInfo Batch(long id, DateTimeOffset? completed) => new()
    {
        Id = id, Name = "b", ArGuid = _run.ArGuid, TotalJobs = 1, Created = _clock.GetUtcNow() - TimeSpan.FromHours(1),
        State = completed is null ? Core.Batch.BatchState.Running : Core.Batch.BatchState.Succeeded, Completed = completed,
    };

    private RunTokens Tokens() => new(_world.Home, _world.Deployment.LoggedRuns, _batches, _clock);

    [Fact]
    public async Task A_token_is_honoured_while_its_run_runs_and_for_the_grace_after_and_then_refused()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        _batches.Batches.Add(Batch(1, _clock.GetUtcNow()));
        _batches.Batches.Add(Batch(2, null));
        _clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(_run.ArGuid, (await Tokens().VerifyAsync(token)).ArGuid);   // a sub-batch still runs

        _batches.Batches[1] = Batch(2, _clock.GetUtcNow());
        _clock.Advance(RunTokens.Grace - TimeSpan.FromSeconds(1));
        Assert.Equal(_run.ArGuid, (await Tokens().VerifyAsync(token)).ArGuid);

        _clock.Advance(TimeSpan.FromSeconds(2));
        var refused = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => Tokens().VerifyAsync(token));
        Assert.Equal("InvalidRunToken", refused.ErrorId);
        Assert.Contains("expired", refused.Message);
    }

    [Fact]
    public async Task A_token_of_a_run_whose_batches_were_all_removed_is_refused()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        Assert.Equal("InvalidRunToken", (await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => Tokens().VerifyAsync(token))).ErrorId);
    }
}

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

    private AnalysisRunnerException Refused(string token, string errorId = "InvalidRunToken")
    {
        var ex = Assert.ThrowsAny<AnalysisRunnerException>(() => _world.Deployment.RunTokens.Verify(token));
        Assert.Equal(errorId, ex.ErrorId);
        return ex;
    }

    [Fact]
    public void A_token_the_runner_issued_verifies_to_its_logged_run()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);

        var verified = _world.Deployment.RunTokens.Verify(token);

        Assert.Equal(_run.ArGuid, verified.ArGuid);
        Assert.Equal(("fewgenomes", AccessLevel.Test), (verified.Dataset, verified.AccessLevel));
        Assert.StartsWith(_run.ArGuid + ".", token);
        Assert.DoesNotContain(Convert.ToBase64String(File.ReadAllBytes(_world.Home.RunTokenKeyPath)), token);
    }

    [Fact]
    public void Forged_tokens_are_refused()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        var signature = token[(token.LastIndexOf('.') + 1)..];

        Refused(_run.ArGuid);
        Refused(_run.ArGuid + ".");
        Refused(_run.ArGuid + "." + new string('A', signature.Length));
        Refused(_run.ArGuid + "." + signature[..^2] + (signature[^2] == 'A' ? "B" : "A") + signature[^1]);
        Refused(Guid.NewGuid() + "." + signature);
        Refused("../../x." + signature);
        Refused(new string('x', 2000));
        Refused("");
    }

    [Fact]
    public void A_token_signed_with_another_homes_key_is_refused()
    {
        using var other = new AuthorityWorld();
        Refused(RunTokens.Issue(other.Home, _run.ArGuid));
    }

    [Fact]
    public void A_genuine_token_for_a_run_that_is_not_logged_grants_nothing()
    {
        Refused(RunTokens.Issue(_world.Home, Guid.NewGuid().ToString()));
    }

    [Fact]
    public void A_token_of_a_run_whose_entry_was_edited_grants_nothing()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        _world.Sql($"UPDATE audit_log SET access_level = 'full' WHERE ar_guid = '{_run.ArGuid}'");

        Refused(token, "AuditChainBroken");
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
        public long Submit(Core.Batch.BatchSpec spec) => throw new NotSupportedException();
        public Core.Batch.BatchInfo? GetBatch(long batchId) => Batches.FirstOrDefault(b => b.Id == batchId);
        public IReadOnlyList<Core.Batch.BatchInfo> FindBatches(Core.Batch.BatchQuery query) => Batches.Where(b => b.ArGuid == query.ArGuid).ToList();
        public IReadOnlyList<Core.Batch.JobInfo> GetJobs(long batchId) => [];
        public Core.Batch.JobInfo? GetJob(long batchId, int jobId) => null;
        public void RequestCancel(long batchId) { }
        public IReadOnlyList<Core.Batch.JobAttempt> GetAttempts(long batchId, int jobId) => [];
        public void Remove(long batchId) { }
    }

    private Core.Batch.BatchInfo Batch(long id, DateTimeOffset? completed) => new()
    {
        Id = id, Name = "b", ArGuid = _run.ArGuid, TotalJobs = 1, Created = _clock.GetUtcNow() - TimeSpan.FromHours(1),
        State = completed is null ? Core.Batch.BatchState.Running : Core.Batch.BatchState.Succeeded, Completed = completed,
    };

    private RunTokens Tokens() => new(_world.Home, _world.Deployment.LoggedRuns, _batches, _clock);

    [Fact]
    public void A_token_is_honoured_while_its_run_runs_and_for_the_grace_after_and_then_refused()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        _batches.Batches.Add(Batch(1, _clock.GetUtcNow()));
        _batches.Batches.Add(Batch(2, null));
        _clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(_run.ArGuid, Tokens().Verify(token).ArGuid);   // a sub-batch still runs

        _batches.Batches[1] = Batch(2, _clock.GetUtcNow());
        _clock.Advance(RunTokens.Grace - TimeSpan.FromSeconds(1));
        Assert.Equal(_run.ArGuid, Tokens().Verify(token).ArGuid);

        _clock.Advance(TimeSpan.FromSeconds(2));
        var refused = Assert.ThrowsAny<AnalysisRunnerException>(() => Tokens().Verify(token));
        Assert.Equal("InvalidRunToken", refused.ErrorId);
        Assert.Contains("expired", refused.Message);
    }

    [Fact]
    public void A_token_of_a_run_whose_batches_were_all_removed_is_refused()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        Assert.Equal("InvalidRunToken", Assert.ThrowsAny<AnalysisRunnerException>(() => Tokens().Verify(token)).ErrorId);
    }
}

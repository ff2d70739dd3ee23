using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Tests.Runs;

public sealed class RunAuthorityTests : IDisposable
{
    private readonly AuthorityWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void Facts_travel_as_json_unchanged()
    {
        var facts = _world.Facts() with
        {
            ConfigFiles = [new ConfigSnapshot("a.toml", "[x]\ny = 'it''s'\n")],
            Environment = new Dictionary<string, string> { ["K"] = "v" },
            CommitPushed = false,
        };
        var back = SubmissionFacts.FromJson(facts.ToJson());

        Assert.Equal(facts.ToJson(), back.ToJson());
        Assert.Equal(AccessLevel.Test, back.AccessLevel);
        Assert.Contains("\"accessLevel\":\"test\"", facts.ToJson());
    }

    [Fact]
    public void A_plan_uses_only_the_facts_it_was_given_never_the_callers_files()
    {
        var facts = _world.Facts() with { ConfigFiles = [new ConfigSnapshot("/nonexistent/on/this/machine.toml", "[custom]\nx = 1\n")] };

        var plan = _world.Authority.Plan(facts, _world.Caller);

        Assert.Null(plan.Refusal);
        Assert.Equal(1L, ((TomlTable)TomlFilesRead(plan.ConfigToml)["custom"])["x"]);
        Assert.Equal(["/nonexistent/on/this/machine.toml"], plan.Run.ConfigFiles);
        Assert.Equal("./hello.sh world", plan.DriverCommand);
        Assert.Equal(AuthorityWorld.Alice, plan.Run.User);
        var checkout = plan.DriverBatch.Jobs[0].Checkout!;
        Assert.Equal(_world.Main, checkout.Commit);
        Assert.Equal("hello.sh", checkout.Script);
        Assert.Equal(_world.Deployment.Git.MirrorPath(_world.Git.OriginPath), checkout.Mirror);
    }

    private static TomlTable TomlFilesRead(string toml) => AnalysisRunner.Core.Config.TomlFiles.Parse(toml, "plan");

    [Fact]
    public void A_standard_submission_fetches_the_remote_once_and_a_refused_one_never()
    {
        var plan = _world.Authority.Plan(_world.Facts(AccessLevel.Standard), _world.Caller);
        Assert.Null(plan.Refusal);
        Assert.Equal(1, _world.Deployment.Git.Fetches);
        Assert.All(plan.Checks, check => Assert.True(check.Passed, check.Rule));

        var refused = _world.Authority.Plan(_world.Facts(AccessLevel.Standard), new Caller("mallory@example.org", "test"));
        Assert.Equal("NotAMember", refused.Refusal!.ErrorId);
        Assert.Equal(1, _world.Deployment.Git.Fetches);
        Assert.Contains(refused.Checks, check => check.Rule == "ScriptInCommit" && !check.Passed);
    }

    [Theory]
    [InlineData("Few Genomes")]
    [InlineData("../fewgenomes")]
    [InlineData("FEWGENOMES")]
    [InlineData("")]
    public void A_dataset_the_registry_does_not_have_is_refused_before_anything_else(string dataset)
    {
        var ex = Assert.Throws<PolicyViolationException>(() =>
            _world.Authority.Plan(_world.Facts() with { Dataset = dataset, OutputDir = "/etc", Script = "/bin/sh" }, _world.Caller));
        Assert.Equal("DatasetNotFound", ex.ErrorId);
        Assert.Contains("fewgenomes, othergenomes", ex.Message);
        Assert.Equal(0, _world.Deployment.Git.Fetches);
    }

    [Fact]
    public void The_repository_fetched_is_the_registrys_entry_whatever_spelling_the_client_sent()
    {
        var plan = _world.Authority.Plan(_world.Facts() with { RepositoryUrl = _world.Git.OriginPath + "/" }, _world.Caller);

        Assert.Null(plan.Refusal);
        Assert.Equal(_world.Git.OriginPath, plan.Run.Repository);
        Assert.Equal(_world.Git.OriginPath, plan.DriverBatch.Jobs[0].Checkout!.CloneUrl);
    }

    [Fact]
    public void A_repository_url_with_credentials_never_reaches_the_plan_or_the_messages()
    {
        var facts = _world.Facts() with { RepositoryUrl = "https://bot:s3cr3t@git.example.invalid/org/repo.git" };

        var plan = _world.Authority.Plan(facts, _world.Caller);

        Assert.Equal("RepositoryNotAllowed", plan.Refusal!.ErrorId);
        Assert.DoesNotContain("s3cr3t", plan.Refusal.Message + plan.Refusal.Target + plan.ConfigToml + plan.Run.Repository +
            string.Join("", plan.Checks.Select(c => c.Detail)) + System.Text.Json.JsonSerializer.Serialize(plan.DriverBatch));
    }

    [Fact]
    public void Facts_a_client_cannot_have_meant_are_refused_as_InvalidSubmission()
    {
        foreach (var json in new[]
        {
            """{"dataset":"fewgenomes","accessLevel":7,"description":"d","outputDir":"o","script":"hello.sh"}""",
            """{"dataset":null,"accessLevel":"test","description":"d","outputDir":"o","script":"hello.sh"}""",
            """{"dataset":"fewgenomes","accessLevel":"test","description":"d","outputDir":"o","script":"hello.sh","scriptArguments":null}""",
            """{"dataset":"fewgenomes","accessLevel":"test","description":"d","outputDir":"o","script":"hello.sh","configFiles":[null]}""",
        })
        {
            var ex = Assert.ThrowsAny<AnalysisRunnerException>(() => _world.Authority.Plan(SubmissionFacts.FromJson(json), _world.Caller));
            Assert.Equal("InvalidSubmission", ex.ErrorId);
        }
        Assert.Equal("InvalidSubmission", Assert.ThrowsAny<AnalysisRunnerException>(() => SubmissionFacts.FromJson("""{"dataset":"fewgenomes"}""")).ErrorId);
        Assert.Equal("InvalidSubmission", Assert.ThrowsAny<AnalysisRunnerException>(() => SubmissionFacts.FromJson("not json")).ErrorId);
    }

    [Fact]
    public void A_registry_entry_with_credentials_does_not_put_them_in_the_driver_batch()
    {
        var registry = Path.Combine(_world.HomePath, "registry.toml");
        File.WriteAllText(registry, File.ReadAllText(registry).Replace(
            $"repositories = [\"{_world.Git.OriginPath}\"]\n\n[datasets.fewgenomes.members]",
            $"repositories = [\"https://bot:s3cr3t@git.example.invalid/org/repo.git\"]\n\n[datasets.fewgenomes.members]"));

        var ex = Assert.ThrowsAny<AnalysisRunnerException>(() =>
            _world.Authority.Plan(_world.Facts() with { RepositoryUrl = "https://git.example.invalid/org/repo.git" }, _world.Caller));

        Assert.Equal("RepositoryUnreachable", ex.ErrorId);
        Assert.DoesNotContain("s3cr3t", ex.Message + ex.Target);
        Assert.DoesNotContain(Directory.GetDirectories(_world.Home.GitCacheDirectory).SelectMany(d => Directory.GetFiles(d, "config")).Select(File.ReadAllText), text => text.Contains("s3cr3t"));
    }

    [Fact]
    public async Task SubmitAsync_writes_config_driver_batch_and_a_chained_log_row()
    {
        var run = await _world.Authority.SubmitAsync(_world.Facts(), _world.Caller);

        Assert.True(File.Exists(run.ConfigPath));
        Assert.Equal(1, _world.LogRows);
        Assert.NotNull(run.EntryHash);
        Assert.Equal(AuditChain.Genesis, run.PreviousHash);
        Assert.True(AuditChain.Verify(_world.Deployment.AuditLog.ReadChain()).Valid);
        Assert.Equal(run.ArGuid, (await _world.Deployment.Batches.GetBatchAsync(run.DriverBatchId))!.Attributes["ar_guid"]);
        Assert.True(_world.Executor.Wakes >= 1, "the executor is told about the committed driver batch");
    }

    [Fact]
    public async Task A_failed_transaction_withdraws_the_config_and_leaves_no_batch()
    {
        _world.Sql("CREATE TRIGGER refuse_runs BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");

        Assert.ThrowsAny<Exception>(() => _world.Authority.SubmitAsync(_world.Facts(), _world.Caller).GetAwaiter().GetResult());

        Assert.Equal(0, _world.Configs);
        Assert.Equal(0, await _world.BatchesAsync());
        Assert.Equal(0, _world.LogRows);
    }

    [Fact]
    public async Task A_refused_plan_is_never_submitted()
    {
        var plan = _world.Authority.Plan(_world.Facts() with { Script = "../../../bin/sh" }, _world.Caller);

        Assert.Equal("ScriptOutsideRepository", plan.Refusal!.ErrorId);
        Assert.Equal("ScriptOutsideRepository", Assert.ThrowsAny<AnalysisRunnerException>(() => _world.Authority.SubmitAsync(plan).GetAwaiter().GetResult()).ErrorId);
        Assert.Equal((0, 0, 0), (_world.Configs, _world.LogRows, await _world.BatchesAsync()));
        Assert.Equal(0, _world.Executor.Wakes);
    }

    [Theory]
    [InlineData("AR_RUN_TOKEN")]
    [InlineData("CPG_CONFIG_PATH")]
    [InlineData("AR_BATCH_ID")]
    public void The_runners_own_variables_cannot_be_set_by_a_submission(string name)
    {
        var ex = Assert.Throws<BatchValidationException>(() =>
            _world.Authority.Plan(_world.Facts() with { Environment = new Dictionary<string, string> { [name] = "x" } }, _world.Caller));
        Assert.Equal("ReservedEnvironmentVariable", ex.ErrorId);
    }

    [Theory]
    [InlineData("AR_RUN_TOKEN=forged")]
    [InlineData("AR_BATCH_ID=1")]
    [InlineData("")]
    [InlineData("HAS SPACE")]
    [InlineData("NUL\0")]
    [InlineData("NEWLINE\n")]
    [InlineData("1STARTS_WITH_DIGIT")]
    public void An_environment_name_that_would_smuggle_another_variable_is_refused(string name)
    {
        var ex = Assert.Throws<BatchValidationException>(() =>
            _world.Authority.Plan(_world.Facts() with { Environment = new Dictionary<string, string> { [name] = "x" } }, _world.Caller));
        Assert.Equal("InvalidEnvironmentName", ex.ErrorId);
    }

    [Fact]
    public async Task A_rerun_takes_every_fact_from_the_verified_log_entry()
    {
        var first = await _world.Authority.SubmitAsync(_world.Facts() with { ConfigFiles = [new ConfigSnapshot("u.toml", "[c]\nv = 'first'\n")] }, _world.Caller);

        var again = await _world.Authority.PlanRerunAsync(first.ArGuid, _world.Caller);

        Assert.Null(again.Refusal);
        Assert.Equal(first.ArGuid, again.Run.RerunOf);
        Assert.Equal((first.Commit, first.Cwd, first.Script, first.Repository), (again.Run.Commit, again.Run.Cwd, again.Run.Script, again.Run.Repository));
        Assert.Equal(first.ScriptArguments, again.Run.ScriptArguments);
        Assert.Contains("v = \"first\"", again.ConfigToml);

        _world.Sql($"UPDATE audit_log SET script = '/bin/sh' WHERE ar_guid = '{first.ArGuid}'");
        var ex = await Assert.ThrowsAsync<AnalysisRunnerException>(() => _world.Authority.PlanRerunAsync(first.ArGuid, _world.Caller));
        Assert.Equal("AuditChainBroken", ex.ErrorId);
        Assert.Equal("RunNotFound", (await Assert.ThrowsAsync<AnalysisRunnerException>(() => _world.Authority.PlanRerunAsync("no-such-run", _world.Caller))).ErrorId);
    }
}

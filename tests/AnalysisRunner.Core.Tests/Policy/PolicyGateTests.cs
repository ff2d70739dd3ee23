using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Tests.Policy;

public class PolicyGateTests
{
    private readonly DatasetRegistry _registry = PolicyTestData.Registry();

    [Fact]
    public void Rules_run_in_the_documented_order()
    {
        var gate = new PolicyGate(_registry, new FakeCommits());
        Assert.Equal(["DatasetExists", "OutputDir", "Membership", "RepositoryAllowlist", "SkipRepoCheckout", "ImagePrefix", "CommitOnMain", "ScriptInCommit"],
            gate.Rules.Select(r => r.Name));
    }

    [Fact]
    public void Enforce_passes_an_allowed_request()
    {
        var request = PolicyTestData.Request(AccessLevel.Standard);
        new PolicyGate(_registry, new FakeCommits(request.Commit!)).Enforce(request);
    }

    [Fact]
    public void Enforce_throws_the_first_violation()
    {
        var request = PolicyTestData.Request(AccessLevel.Standard) with
        {
            User = "mallory@example.org",
            Repository = "evil/repo",
            OutputDir = "gs://elsewhere",
        };
        var ex = Assert.Throws<PolicyViolationException>(() => new PolicyGate(_registry, new FakeCommits()).Enforce(request));
        Assert.Equal("InvalidOutputDir", ex.ErrorId);

        ex = Assert.Throws<PolicyViolationException>(() =>
            new PolicyGate(_registry, new FakeCommits()).Enforce(request with { OutputDir = "ok" }));
        Assert.Equal("NotAMember", ex.ErrorId);
    }

    [Fact]
    public void Enforce_refuses_a_missing_dataset_before_anything_else()
    {
        var commits = new FakeCommits();
        var ex = Assert.Throws<PolicyViolationException>(() =>
            new PolicyGate(_registry, commits).Enforce(PolicyTestData.Request(AccessLevel.Full) with { Dataset = "nope", OutputDir = "/x" }));
        Assert.Equal("DatasetNotFound", ex.ErrorId);
        Assert.Empty(commits.Asked);
    }

    [Fact]
    public void Evaluate_reports_every_rule()
    {
        var request = PolicyTestData.Request(AccessLevel.Standard) with { Repository = "evil/repo" };
        var checks = new PolicyGate(_registry, new FakeCommits()).Evaluate(request);

        Assert.Equal(8, checks.Count);
        Assert.Equal([true, true, true, false, true, true, false, true], checks.Select(c => c.Passed));
        Assert.Contains("datasets.fewgenomes.repositories", checks[3].Detail);
        Assert.Contains("-AccessLevel test", checks[6].Detail);
        Assert.Equal("RepositoryNotAllowed", PolicyGate.RefusalOf(checks)!.ErrorId);
    }

    [Fact]
    public void Each_rule_asks_the_remote_at_most_once_per_evaluation()
    {
        var request = PolicyTestData.Request(AccessLevel.Standard);
        var commits = new FakeCommits(request.Commit!);
        var gate = new PolicyGate(_registry, commits);

        var checks = gate.Evaluate(request);

        Assert.Null(PolicyGate.RefusalOf(checks));
        Assert.Single(commits.Asked);
    }

    [Fact]
    public void Without_a_commit_source_the_rules_that_need_one_never_pass()
    {
        var checks = new PolicyGate(_registry, null).Evaluate(PolicyTestData.Request(AccessLevel.Standard));

        Assert.All(checks.TakeLast(2), c => Assert.False(c.Passed));
        Assert.Equal("PolicyNotEvaluated", PolicyGate.RefusalOf(checks)!.ErrorId);
    }

    [Fact]
    public void Evaluate_with_a_missing_dataset_reports_the_rules_that_need_it_as_skipped()
    {
        var checks = new PolicyGate(_registry, new FakeCommits()).Evaluate(PolicyTestData.Request() with { Dataset = "nope" });

        Assert.False(checks[0].Passed);
        Assert.True(checks[1].Passed);
        Assert.All(checks.Skip(2).Take(3), c =>
        {
            Assert.False(c.Passed);
            Assert.StartsWith("skipped", c.Detail);
        });
    }

    [Fact]
    public void Evaluate_reports_an_unreachable_remote_as_a_failed_check()
    {
        var checks = new PolicyGate(_registry, new UnreachableCommits()).Evaluate(PolicyTestData.Request(AccessLevel.Standard));
        Assert.False(checks[6].Passed);
        Assert.Contains("unreachable", checks[6].Detail);
    }

    private sealed class UnreachableCommits : ICommitOnMainChecker
    {
        public bool IsOnMain(string cloneUrl, string commit) =>
            throw new SourceException("RepositoryUnreachable", ErrorKind.ResourceUnavailable, cloneUrl, $"{cloneUrl} is unreachable");
    }
}

using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Tests.Policy;

public class PolicyRuleTests
{
    private readonly DatasetRegistry _registry = PolicyTestData.Registry();

    private static PolicyViolationException Refused(IPolicyRule rule, PolicyRequest request, DatasetRegistry registry, string errorId, ErrorKind kind)
    {
        var ex = Assert.Throws<PolicyViolationException>(() => rule.Check(request, registry));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(kind, ex.Kind);
        return ex;
    }

    [Fact]
    public void DatasetExists_refuses_an_unknown_dataset_listing_the_known_ones()
    {
        var ex = Refused(new DatasetExistsRule(), PolicyTestData.Request() with { Dataset = "Fewgenomes" }, _registry,
            "DatasetNotFound", ErrorKind.ObjectNotFound);
        Assert.Equal("Fewgenomes", ex.Target);
        Assert.Contains("fewgenomes, tob-wgs", ex.Message);
        Assert.Contains("[datasets.Fewgenomes]", ex.Message);
        Assert.Contains("registry.toml", ex.Message);
        new DatasetExistsRule().Check(PolicyTestData.Request(), _registry);
    }

    [Theory]
    [InlineData("gs://cpg-fewgenomes-main/x")]
    [InlineData("s3://bucket/x")]
    [InlineData("file:///etc")]
    [InlineData("gs:bucket")]
    [InlineData("/absolute/path")]
    [InlineData("~/x")]
    [InlineData("../escape")]
    [InlineData("a/../../b")]
    [InlineData("a/..")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("/")]
    [InlineData("a//b")]
    [InlineData("./a")]
    [InlineData("a\\..\\b")]
    [InlineData("a/\nb")]
    public void OutputDir_refuses_anything_but_a_relative_prefix(string outputDir)
    {
        var ex = Refused(new OutputDirRule(), PolicyTestData.Request() with { OutputDir = outputDir }, _registry,
            "InvalidOutputDir", ErrorKind.InvalidArgument);
        Assert.Equal(outputDir, ex.Target);
        Assert.Contains("relative path", ex.Message);
        Assert.Throws<PolicyViolationException>(() => OutputDirRule.Normalize(outputDir));
    }

    [Theory]
    [InlineData("onboarding/me/x", "onboarding/me/x")]
    [InlineData("onboarding/me/x/", "onboarding/me/x")]
    [InlineData("x//", "x")]
    [InlineData("a..b/c.d", "a..b/c.d")]
    [InlineData("2024-01-01T00-00", "2024-01-01T00-00")]
    public void OutputDir_normalises_a_relative_prefix(string raw, string expected)
    {
        Assert.Equal(expected, OutputDirRule.Normalize(raw));
        new OutputDirRule().Check(PolicyTestData.Request() with { OutputDir = raw }, _registry);
    }

    [Fact]
    public void Membership_refuses_a_user_not_listed_at_the_access_level_naming_the_key()
    {
        var request = PolicyTestData.Request(AccessLevel.Standard) with { User = "bob@example.org" };
        var ex = Refused(new MembershipRule(), request, _registry, "NotAMember", ErrorKind.PermissionDenied);
        Assert.Equal("bob@example.org", ex.Target);
        Assert.Contains("fewgenomes", ex.Message);
        Assert.Contains("standard", ex.Message);
        Assert.Contains("datasets.fewgenomes.members.standard", ex.Message);
        new MembershipRule().Check(request with { AccessLevel = AccessLevel.Test }, _registry);
    }

    [Fact]
    public void Membership_at_one_level_does_not_grant_another()
    {
        var ex = Refused(new MembershipRule(), PolicyTestData.Request(AccessLevel.Full), _registry, "NotAMember", ErrorKind.PermissionDenied);
        Assert.Contains("datasets.fewgenomes.members.full", ex.Message);
    }

    [Fact]
    public void Membership_compares_emails_without_case_but_otherwise_exactly()
    {
        new MembershipRule().Check(PolicyTestData.Request() with { User = "Alice@Example.ORG" }, _registry);
        Refused(new MembershipRule(), PolicyTestData.Request() with { User = "alice@example.org.evil" }, _registry, "NotAMember", ErrorKind.PermissionDenied);
        Refused(new MembershipRule(), PolicyTestData.Request() with { User = " alice@example.org" }, _registry, "NotAMember", ErrorKind.PermissionDenied);
        Refused(new MembershipRule(), PolicyTestData.Request() with { User = "alice@example.org\n" }, _registry, "NotAMember", ErrorKind.PermissionDenied);
    }

    [Theory]
    [InlineData("populationgenomics/analysis-runner.evil")]
    [InlineData("PopulationGenomics/analysis-runner")]
    [InlineData("populationgenomics/analysis")]
    [InlineData("evil/populationgenomics/analysis-runner")]
    [InlineData("https://gitlab.com/populationgenomics/analysis-runner")]
    public void Allowlist_refuses_repositories_that_only_look_allowed(string repository)
    {
        var ex = Refused(new RepositoryAllowlistRule(), PolicyTestData.Request() with { Repository = repository }, _registry,
            "RepositoryNotAllowed", ErrorKind.PermissionDenied);
        Assert.Equal(repository, ex.Target);
        Assert.Contains("datasets.fewgenomes.repositories", ex.Message);
    }

    [Theory]
    [InlineData("populationgenomics/analysis-runner")]
    [InlineData("git@github.com:populationgenomics/analysis-runner.git")]
    [InlineData("org/other")]
    public void Allowlist_accepts_listed_repositories_in_any_url_form(string repository) =>
        new RepositoryAllowlistRule().Check(PolicyTestData.Request() with { Repository = repository }, _registry);

    [Fact]
    public void Allowlist_applies_with_SkipRepoCheckout_too()
    {
        Refused(new RepositoryAllowlistRule(), PolicyTestData.Request() with { Repository = null, SkipRepoCheckout = true }, _registry,
            "RepositoryNotAllowed", ErrorKind.PermissionDenied);
        Refused(new RepositoryAllowlistRule(), PolicyTestData.Request() with { Repository = "evil/repo", SkipRepoCheckout = true }, _registry,
            "RepositoryNotAllowed", ErrorKind.PermissionDenied);
        Refused(new RepositoryAllowlistRule(), PolicyTestData.Request() with { Repository = null }, _registry,
            "RepositoryNotAllowed", ErrorKind.PermissionDenied);
        new RepositoryAllowlistRule().Check(PolicyTestData.Request() with { SkipRepoCheckout = true }, _registry);
    }

    [Theory]
    [InlineData(AccessLevel.Standard)]
    [InlineData(AccessLevel.Full)]
    public void SkipRepoCheckout_at_real_data_needs_the_datasets_explicit_permission(AccessLevel level)
    {
        var request = PolicyTestData.Request(level) with { SkipRepoCheckout = true };
        var ex = Refused(new SkipRepoCheckoutRule(), request, _registry, "SkipRepoCheckoutNotAllowed", ErrorKind.PermissionDenied);
        Assert.Contains("allow_skip_repo_checkout", ex.Message);
        new SkipRepoCheckoutRule().Check(request with { AccessLevel = AccessLevel.Test }, _registry);
        new SkipRepoCheckoutRule().Check(request with { SkipRepoCheckout = false }, _registry);

        var allowing = DatasetRegistry.Parse(PolicyTestData.RegistryToml.Replace(
            "[datasets.fewgenomes]\n", "[datasets.fewgenomes]\nallow_skip_repo_checkout = true\n"), "registry.toml");
        Assert.True(allowing.Find("fewgenomes")!.AllowSkipRepoCheckout);
        new SkipRepoCheckoutRule().Check(request, allowing);
    }

    [Fact]
    public void The_registrys_default_image_is_checked_like_an_explicit_one()
    {
        var outside = DatasetRegistry.Parse(PolicyTestData.RegistryToml.Replace(
            "default_image = \"australia-southeast1-docker.pkg.dev/analysis-runner/images/driver:latest\"",
            "default_image = \"docker.io/evil/driver:latest\""), "registry.toml");
        var ex = Refused(new ImagePrefixRule(), PolicyTestData.Request(AccessLevel.Standard) with { Image = null }, outside,
            "ImageNotAllowed", ErrorKind.PermissionDenied);
        Assert.Equal("docker.io/evil/driver:latest", ex.Target);
        Assert.Contains("default image", ex.Message);
        new ImagePrefixRule().Check(PolicyTestData.Request(AccessLevel.Test) with { Image = null }, outside);
    }

    [Theory]
    [InlineData(AccessLevel.Standard)]
    [InlineData(AccessLevel.Full)]
    public void Image_outside_the_prefixes_is_refused_for_real_data(AccessLevel level)
    {
        const string image = "docker.io/evil/image:latest";
        var ex = Refused(new ImagePrefixRule(), PolicyTestData.Request(level) with { Image = image }, _registry,
            "ImageNotAllowed", ErrorKind.PermissionDenied);
        Assert.Equal(image, ex.Target);
        Assert.Contains("australia-southeast1-docker.pkg.dev/analysis-runner/", ex.Message);
    }

    [Fact]
    public void Image_prefixes_are_global_plus_the_datasets_own_and_test_allows_any()
    {
        var rule = new ImagePrefixRule();
        rule.Check(PolicyTestData.Request(AccessLevel.Standard) with { Image = "australia-southeast1-docker.pkg.dev/cpg-common/images/x:1" }, _registry);
        rule.Check(PolicyTestData.Request(AccessLevel.Standard) with { Image = "docker.io/fewgenomes/tool:2" }, _registry);
        rule.Check(PolicyTestData.Request(AccessLevel.Standard) with { Image = null }, _registry);
        rule.Check(PolicyTestData.Request(AccessLevel.Test) with { Image = "docker.io/evil/image:latest" }, _registry);
        Refused(rule, PolicyTestData.Request(AccessLevel.Standard) with { Dataset = "tob-wgs", Image = "docker.io/fewgenomes/tool:2" },
            _registry, "ImageNotAllowed", ErrorKind.PermissionDenied);
    }

    [Theory]
    [InlineData(AccessLevel.Standard)]
    [InlineData(AccessLevel.Full)]
    public void A_commit_not_on_main_is_refused_for_real_data(AccessLevel level)
    {
        var commits = new FakeCommits();
        var request = PolicyTestData.Request(level);
        var ex = Refused(new CommitOnMainRule(commits), request, _registry, "CommitNotOnMain", ErrorKind.PermissionDenied);
        Assert.Equal(request.Commit, ex.Target);
        Assert.Contains("main", ex.Message);
        Assert.Contains("-AccessLevel test", ex.Message);
        Assert.Equal(("https://github.com/populationgenomics/analysis-runner.git", request.Commit!), Assert.Single(commits.Asked));
    }

    [Fact]
    public void CommitOnMain_uses_the_given_clone_url_and_passes_a_merged_commit()
    {
        var request = PolicyTestData.Request(AccessLevel.Standard) with { CloneUrl = "/srv/origin.git" };
        var commits = new FakeCommits(request.Commit!);
        new CommitOnMainRule(commits).Check(request, _registry);
        Assert.Equal("/srv/origin.git", Assert.Single(commits.Asked).CloneUrl);
    }

    [Fact]
    public void CommitOnMain_is_not_asked_for_test_access_or_without_a_repository()
    {
        var commits = new FakeCommits();
        var rule = new CommitOnMainRule(commits);
        rule.Check(PolicyTestData.Request(AccessLevel.Test), _registry);
        rule.Check(PolicyTestData.Request(AccessLevel.Standard) with { Repository = null }, _registry);
        Assert.Empty(commits.Asked);
    }

    [Fact]
    public void CommitOnMain_still_applies_with_SkipRepoCheckout()
    {
        var commits = new FakeCommits();
        Refused(new CommitOnMainRule(commits), PolicyTestData.Request(AccessLevel.Standard) with { SkipRepoCheckout = true }, _registry,
            "CommitNotOnMain", ErrorKind.PermissionDenied);
        Assert.Single(commits.Asked);
    }
}

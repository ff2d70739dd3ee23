using AnalysisRunner.Core.Git;

namespace AnalysisRunner.Core.Tests.Git;

public class RepositoryNameTests
{
    [Theory]
    [InlineData("git@github.com:populationgenomics/analysis-runner.git", "populationgenomics/analysis-runner")]
    [InlineData("git@github.com:populationgenomics/analysis-runner", "populationgenomics/analysis-runner")]
    [InlineData("https://github.com/populationgenomics/analysis-runner", "populationgenomics/analysis-runner")]
    [InlineData("https://github.com/populationgenomics/analysis-runner.git", "populationgenomics/analysis-runner")]
    [InlineData("https://github.com/populationgenomics/analysis-runner/", "populationgenomics/analysis-runner")]
    [InlineData("https://github.com/populationgenomics/analysis-runner.git/", "populationgenomics/analysis-runner")]
    [InlineData("ssh://git@github.com/populationgenomics/analysis-runner.git", "populationgenomics/analysis-runner")]
    [InlineData("https://alice@github.com/populationgenomics/analysis-runner.git", "populationgenomics/analysis-runner")]
    [InlineData("https://alice:ghp_secret@github.com/org/repo", "org/repo")]
    [InlineData("http://github.com/org/repo", "org/repo")]
    [InlineData("https://GitHub.com/Org/Repo.git", "Org/Repo")]
    [InlineData("git@github.com:org/repo.evil.git", "org/repo.evil")]
    [InlineData("https://github.com/org/repo/tree/main", "https://github.com/org/repo/tree/main")]
    [InlineData("https://gitlab.com/org/repo.git", "https://gitlab.com/org/repo.git")]
    [InlineData("https://gitlab.com/org/repo/", "https://gitlab.com/org/repo")]
    [InlineData("https://bob:token@gitlab.com/org/repo.git", "https://gitlab.com/org/repo.git")]
    [InlineData("/srv/git/analysis.git", "/srv/git/analysis.git")]
    [InlineData("/srv/git/analysis/", "/srv/git/analysis")]
    [InlineData("file:///srv/git/analysis.git", "file:///srv/git/analysis.git")]
    [InlineData("https://github.com.evil.org/org/repo", "https://github.com.evil.org/org/repo")]
    [InlineData("org/repo", "org/repo")]
    public void Normalize_maps_remote_urls(string url, string expected) =>
        Assert.Equal(expected, RepositoryName.Normalize(url));

    [Theory]
    [InlineData("https://ghp_token@gitlab.com/org/repo.git", "https://gitlab.com/org/repo.git")]
    [InlineData("https://oauth2:glpat-x@gitlab.com/org/repo.git", "https://gitlab.com/org/repo.git")]
    [InlineData("https://user%3Apw@gitlab.com/org/repo.git", "https://gitlab.com/org/repo.git")]
    [InlineData("http://u:p@host:8080/r.git?x=1", "http://host:8080/r.git?x=1")]
    [InlineData("ssh://git:hunter2@host.org/r.git", "ssh://git@host.org/r.git")]
    [InlineData("ssh://git@host.org/r.git", "ssh://git@host.org/r.git")]
    [InlineData("git@host.org:org/r.git", "git@host.org:org/r.git")]
    [InlineData("file://u:p@/srv/r.git", "file:///srv/r.git")]
    [InlineData("https://host.org/path/with@sign.git", "https://host.org/path/with@sign.git")]
    [InlineData("/srv/git/a@b.git", "/srv/git/a@b.git")]
    public void WithoutCredentials_removes_every_secret_from_a_url(string url, string expected)
    {
        Assert.Equal(expected, RepositoryName.WithoutCredentials(url));
        Assert.Equal(expected, RepositoryName.Normalize(url));
    }

    [Fact]
    public void Normalize_keeps_case_so_different_case_is_a_different_repository() =>
        Assert.NotEqual(RepositoryName.Normalize("git@github.com:org/repo.git"), RepositoryName.Normalize("https://github.com/ORG/Repo"));

    [Theory]
    [InlineData("populationgenomics/analysis-runner", "https://github.com/populationgenomics/analysis-runner.git")]
    [InlineData("Org/Repo.name", "https://github.com/Org/Repo.name.git")]
    [InlineData("/srv/git/analysis.git", "/srv/git/analysis.git")]
    [InlineData("./local/repo", "./local/repo")]
    [InlineData("../repo", "../repo")]
    [InlineData("file:///srv/git/analysis.git", "file:///srv/git/analysis.git")]
    [InlineData("https://gitlab.com/org/repo.git", "https://gitlab.com/org/repo.git")]
    [InlineData("a/b/c", "a/b/c")]
    public void ToCloneUrl_expands_only_org_slash_name(string repository, string expected) =>
        Assert.Equal(expected, RepositoryName.ToCloneUrl(repository));
}

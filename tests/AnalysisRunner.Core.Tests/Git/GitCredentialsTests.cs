using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Git;

public sealed class GitCredentialsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private GitCredentials Load(params string[] lines)
    {
        var file = _folder.Combine("git-credentials");
        File.WriteAllLines(file, lines);
        return GitCredentials.FromFile(file);
    }

    [Fact]
    public void A_line_applies_to_its_scheme_host_port_and_path_prefix_only()
    {
        var credentials = Load(
            "https://bot:t%40ken@git.example.org/org",
            "https://other:x@git.example.org:8443",
            "not a url",
            "https://nouser.example.org");

        Assert.Equal(("bot", "t@ken"), credentials.For("https://git.example.org/org/repo.git"));
        Assert.Equal(("bot", "t@ken"), credentials.For("https://GIT.example.org/org"));
        Assert.Null(credentials.For("https://git.example.org/organisation/repo.git"));
        Assert.Null(credentials.For("http://git.example.org/org/repo.git"));
        Assert.Null(credentials.For("https://git.example.org.evil.com/org/repo.git"));
        Assert.Equal(("other", "x"), credentials.For("https://git.example.org:8443/any/repo.git"));
        Assert.Null(credentials.For("https://nouser.example.org/r.git"));
    }

    [Fact]
    public void No_file_means_no_credentials_and_no_handler()
    {
        Assert.Null(GitCredentials.FromFile(null).Handler);
        Assert.Null(GitCredentials.FromFile(_folder.Combine("missing")).For("https://git.example.org/r.git"));
        Assert.NotNull(Load("https://bot:t@git.example.org").Handler);
    }
}

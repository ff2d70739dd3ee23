using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Tests.TestSupport;
using LibGit2Sharp;

namespace AnalysisRunner.Core.Tests.Git;

public sealed class SourceCaptureTests : IDisposable
{
    private readonly GitFixture _git = new();

    public void Dispose() => _git.Dispose();

    private string PushedCommit()
    {
        _git.CommitFile(".gitignore", "*.log\n");
        var sha = _git.CommitFile("scripts/hello.sh", "echo hello\n", executable: true);
        _git.Push();
        GitFixture.Git(_git.WorkPath, "fetch", "-q", "origin");
        return sha;
    }

    [Fact]
    public void Capture_at_the_root_reports_repository_commit_and_clean_state()
    {
        var sha = PushedCommit();

        var snapshot = SourceCapture.Capture(_git.WorkPath);

        Assert.Equal(_git.WorkPath, snapshot.GitRoot);
        Assert.Equal(_git.OriginPath, snapshot.OriginUrl);
        Assert.Equal(_git.OriginPath, snapshot.Repository);
        Assert.Equal(sha, snapshot.Commit);
        Assert.Equal(".", snapshot.Cwd);
        Assert.False(snapshot.IsDirty);
        Assert.True(snapshot.OriginHasCommit);
    }

    [Fact]
    public void Capture_normalises_a_github_origin()
    {
        PushedCommit();
        GitFixture.Git(_git.WorkPath, "remote", "set-url", "origin", "git@github.com:populationgenomics/analysis-runner.git");

        var snapshot = SourceCapture.Capture(_git.WorkPath);

        Assert.Equal("populationgenomics/analysis-runner", snapshot.Repository);
        Assert.Equal("git@github.com:populationgenomics/analysis-runner.git", snapshot.OriginUrl);
    }

    [Fact]
    public void Capture_in_a_subfolder_gives_a_slash_separated_cwd_relative_to_the_root()
    {
        PushedCommit();
        var sub = Path.Combine(_git.WorkPath, "scripts", "deep");
        Directory.CreateDirectory(sub);

        Assert.Equal("scripts", SourceCapture.Capture(Path.Combine(_git.WorkPath, "scripts")).Cwd);
        var snapshot = SourceCapture.Capture(sub + "/");
        Assert.Equal("scripts/deep", snapshot.Cwd);
        Assert.Equal(_git.WorkPath, snapshot.GitRoot);
    }

    [Fact]
    public void A_modified_tracked_file_is_dirty()
    {
        PushedCommit();
        _git.WriteFile("scripts/hello.sh", "echo changed\n");
        Assert.True(SourceCapture.Capture(_git.WorkPath).IsDirty);
    }

    [Fact]
    public void A_staged_change_is_dirty()
    {
        PushedCommit();
        _git.WriteFile("new.txt", "x");
        GitFixture.Git(_git.WorkPath, "add", "new.txt");
        Assert.True(SourceCapture.Capture(_git.WorkPath).IsDirty);
    }

    [Fact]
    public void An_untracked_file_in_a_new_folder_is_dirty()
    {
        PushedCommit();
        _git.WriteFile("notes/todo.txt", "x");
        Assert.True(SourceCapture.Capture(_git.WorkPath).IsDirty);
    }

    [Fact]
    public void An_ignored_file_is_not_dirty()
    {
        PushedCommit();
        _git.WriteFile("run.log", "noise");
        Assert.False(SourceCapture.Capture(_git.WorkPath).IsDirty);
    }

    [Fact]
    public void A_commit_not_yet_pushed_is_not_on_origin()
    {
        PushedCommit();
        var local = _git.CommitFile("local.txt", "only here");

        var snapshot = SourceCapture.Capture(_git.WorkPath);

        Assert.Equal(local, snapshot.Commit);
        Assert.False(snapshot.OriginHasCommit);
    }

    [Fact]
    public void A_commit_pushed_to_any_origin_branch_is_on_origin()
    {
        PushedCommit();
        GitFixture.Git(_git.WorkPath, "checkout", "-q", "-b", "feature");
        _git.CommitFile("feature.txt", "f");
        _git.Push("feature");
        GitFixture.Git(_git.WorkPath, "fetch", "-q", "origin");
        Assert.True(SourceCapture.Capture(_git.WorkPath).OriginHasCommit);
    }

    [Fact]
    public void A_repository_without_origin_is_refused()
    {
        PushedCommit();
        GitFixture.Git(_git.WorkPath, "remote", "remove", "origin");

        var ex = Assert.Throws<SourceException>(() => SourceCapture.Capture(_git.WorkPath));

        Assert.Equal("NoOriginRemote", ex.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, ex.Kind);
        Assert.Equal(_git.WorkPath, ex.Target);
    }

    [Fact]
    public void A_repository_without_commits_is_refused()
    {
        var ex = Assert.Throws<SourceException>(() => SourceCapture.Capture(_git.WorkPath));
        Assert.Equal("NoCommits", ex.ErrorId);
    }

    [Fact]
    public void A_folder_outside_any_repository_is_refused()
    {
        using var folder = new TempFolder();
        var ex = Assert.Throws<SourceException>(() => SourceCapture.Capture(folder.Path));
        Assert.Equal("NotAGitRepository", ex.ErrorId);
        Assert.Equal(folder.Path, ex.Target);
    }

    [Fact]
    public void ResolveCommit_accepts_head_branch_tag_short_and_full_sha()
    {
        var first = _git.CommitFile("a.txt", "1");
        GitFixture.Git(_git.WorkPath, "tag", "-a", "v1", "-m", "release");
        var second = _git.CommitFile("a.txt", "2");

        Assert.Equal(second, SourceCapture.ResolveCommit(_git.WorkPath, "HEAD"));
        Assert.Equal(second, SourceCapture.ResolveCommit(_git.WorkPath, "main"));
        Assert.Equal(first, SourceCapture.ResolveCommit(_git.WorkPath, "v1"));
        Assert.Equal(first, SourceCapture.ResolveCommit(_git.WorkPath, first[..8]));
        Assert.Equal(first, SourceCapture.ResolveCommit(_git.WorkPath, first));
    }

    [Theory]
    [InlineData("no-such-branch")]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    [InlineData("")]
    public void ResolveCommit_of_an_unknown_name_is_CommitNotFound(string commitish)
    {
        _git.CommitFile("a.txt", "1");
        var ex = Assert.Throws<SourceException>(() => SourceCapture.ResolveCommit(_git.WorkPath, commitish));
        Assert.Equal("CommitNotFound", ex.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, ex.Kind);
        Assert.Equal(commitish, ex.Target);
    }

    [Fact]
    public void ResolveCommit_of_an_ambiguous_short_sha_is_AmbiguousCommit()
    {
        _git.CommitFile("a.txt", "1");
        string prefix;
        using (var repository = new Repository(_git.WorkPath))
        {
            // Enough blobs that two share a 4-character prefix (the shortest libgit2 accepts).
            var seen = new Dictionary<string, string>();
            string? found = null;
            for (var i = 0; found is null && i < 20000; i++)
            {
                using var content = new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"blob {i}"));
                var sha = repository.ObjectDatabase.CreateBlob(content).Sha;
                if (!seen.TryAdd(sha[..4], sha)) found = sha[..4];
            }
            prefix = found ?? throw new InvalidOperationException("no shared prefix");
        }

        var ex = Assert.Throws<SourceException>(() => SourceCapture.ResolveCommit(_git.WorkPath, prefix));

        Assert.Equal("AmbiguousCommit", ex.ErrorId);
        Assert.Equal(prefix, ex.Target);
    }
}

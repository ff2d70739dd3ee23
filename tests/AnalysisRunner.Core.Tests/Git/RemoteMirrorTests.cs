using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Git;

public sealed class RemoteMirrorTests : IDisposable
{
    private readonly GitFixture _git = new();
    private readonly RemoteMirror _mirror;
    private readonly string _mainCommit;
    private readonly string _sideCommit;

    public RemoteMirrorTests()
    {
        _mirror = new RemoteMirror(new RunnerHome(_git.Combine("home")));
        _git.CommitFile("README.md", "readme\n");
        _mainCommit = _git.CommitFile("scripts/hello.sh", "#!/bin/bash\necho hello\n", executable: true);
        _git.Push();
        GitFixture.Git(_git.WorkPath, "checkout", "-q", "-b", "side");
        _sideCommit = _git.CommitFile("scripts/side.sh", "echo side\n");
        _git.Push("side");
        GitFixture.Git(_git.WorkPath, "checkout", "-q", "main");
    }

    public void Dispose() => _git.Dispose();

    [Fact]
    public void Update_creates_a_bare_mirror_in_the_git_cache()
    {
        var path = _mirror.Update(_git.OriginPath);

        Assert.StartsWith(_git.Combine("home", "git-cache") + "/", path);
        Assert.EndsWith(".git", path);
        Assert.True(LibGit2Sharp.Repository.IsValid(path));
        Assert.Equal(path, _mirror.MirrorPath(_git.OriginPath));
        Assert.NotEqual(path, _mirror.MirrorPath(_git.OriginPath + "-other"));
    }

    [Fact]
    public void A_commit_on_main_is_on_main()
    {
        Assert.True(_mirror.IsOnMain(_git.OriginPath, _mainCommit));
    }

    [Fact]
    public void A_commit_only_on_a_side_branch_is_not_on_main_until_merged()
    {
        Assert.False(_mirror.IsOnMain(_git.OriginPath, _sideCommit));

        GitFixture.Git(_git.WorkPath, "merge", "-q", "--no-edit", "side");
        _git.Push();

        Assert.True(_mirror.IsOnMain(_git.OriginPath, _sideCommit));
    }

    [Fact]
    public void File_urls_work_as_clone_urls()
    {
        Assert.True(_mirror.IsOnMain("file://" + _git.OriginPath, _mainCommit));
    }

    [Fact]
    public void An_unreachable_remote_is_RepositoryUnreachable_naming_the_url()
    {
        var missing = _git.Combine("no-such-origin.git");

        var ex = Assert.Throws<SourceException>(() => _mirror.IsOnMain(missing, _mainCommit));

        Assert.Equal("RepositoryUnreachable", ex.ErrorId);
        Assert.Equal(ErrorKind.ResourceUnavailable, ex.Kind);
        Assert.Equal(missing, ex.Target);
        Assert.Contains(missing, ex.Message);
        Assert.False(Directory.Exists(_mirror.MirrorPath(missing)));
    }

    [Fact]
    public void ResolveCommit_resolves_head_branches_and_short_shas_against_the_remote()
    {
        Assert.Equal(_mainCommit, _mirror.ResolveCommit(_git.OriginPath, "HEAD"));
        Assert.Equal(_sideCommit, _mirror.ResolveCommit(_git.OriginPath, "side"));
        Assert.Equal(_sideCommit, _mirror.ResolveCommit(_git.OriginPath, _sideCommit[..7]));

        var local = _git.CommitFile("unpushed.txt", "x");
        var ex = Assert.Throws<SourceException>(() => _mirror.ResolveCommit(_git.OriginPath, local));
        Assert.Equal("CommitNotFound", ex.ErrorId);
    }

    [Fact]
    public void ResolveCommit_sees_commits_pushed_after_the_mirror_was_made()
    {
        _mirror.Update(_git.OriginPath);
        var later = _git.CommitFile("later.txt", "x");
        _git.Push();

        Assert.Equal(later, _mirror.ResolveCommit(_git.OriginPath, "main"));
        Assert.Equal(later, _mirror.ResolveCommit(_git.OriginPath, later));
    }

    [Fact]
    public void Checkout_reproduces_the_tree_of_the_commit_with_exec_bits()
    {
        _git.CommitFile("README.md", "changed after\n");
        _git.Push();
        var destination = _git.Combine("checkout");

        _mirror.Checkout(_git.OriginPath, _mainCommit, destination);

        Assert.Equal("readme\n", File.ReadAllText(Path.Combine(destination, "README.md")));
        var script = Path.Combine(destination, "scripts", "hello.sh");
        Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute));
        Assert.False(File.Exists(Path.Combine(destination, "scripts", "side.sh")));
        Assert.False(File.GetUnixFileMode(Path.Combine(destination, "README.md")).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal(_mainCommit, GitFixture.Git(destination, "rev-parse", "HEAD").Trim());
        Assert.Equal("", GitFixture.Git(destination, "status", "--porcelain"));
        Assert.Equal("HEAD", GitFixture.Git(destination, "rev-parse", "--abbrev-ref", "HEAD").Trim());

        var snapshot = SourceCapture.Capture(destination);
        Assert.Equal(_git.OriginPath, snapshot.OriginUrl);
        Assert.True(snapshot.OriginHasCommit);
    }

    [Fact]
    public void Checkout_into_an_existing_empty_folder_works()
    {
        var destination = Directory.CreateDirectory(_git.Combine("empty")).FullName;
        _mirror.Checkout(_git.OriginPath, _sideCommit[..10], destination);
        Assert.True(File.Exists(Path.Combine(destination, "scripts", "side.sh")));
    }

    [Fact]
    public void Checkout_refuses_a_folder_that_holds_files()
    {
        var destination = Directory.CreateDirectory(_git.Combine("full")).FullName;
        File.WriteAllText(Path.Combine(destination, "keep.txt"), "mine");

        var ex = Assert.Throws<SourceException>(() => _mirror.Checkout(_git.OriginPath, _mainCommit, destination));

        Assert.Equal("CheckoutDestinationNotEmpty", ex.ErrorId);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(destination, "keep.txt")));
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public void Concurrent_updates_of_one_mirror_take_turns()
    {
        var results = new string[4];
        Parallel.For(0, results.Length, i => results[i] = _mirror.ResolveCommit(_git.OriginPath, "side"));
        Assert.All(results, sha => Assert.Equal(_sideCommit, sha));
    }
}

public sealed class RemoteMirrorSnapshotTests : IDisposable
{
    private readonly GitFixture _git = new();
    private readonly RemoteMirror _mirror;
    private readonly string _main;

    public RemoteMirrorSnapshotTests()
    {
        _mirror = new RemoteMirror(new RunnerHome(_git.Combine("home"))) { LockTimeout = TimeSpan.FromMilliseconds(300) };
        _main = _git.CommitFile("scripts/hello.sh", "#!/bin/bash\necho hello\n", executable: true);
        _git.Push();
    }

    public void Dispose() => _git.Dispose();

    [Fact]
    public void One_snapshot_fetches_once_and_answers_every_question_from_it()
    {
        using (var snapshot = _mirror.Open(_git.OriginPath, "main", freshMain: true))
        {
            Assert.Equal(_main, snapshot.Commit);
            Assert.True(snapshot.IsOnMain(_git.OriginPath, _main));
            Assert.True(snapshot.IsOnMain(_git.OriginPath, _main));
            Assert.Equal("scripts/hello.sh", snapshot.ResolveScript(_main, "scripts", "hello.sh").Path);
        }
        Assert.Equal(1, _mirror.Fetches);

        // A full sha the mirror has needs no fetch at test access (it names one commit forever) ...
        using (_mirror.Open(_git.OriginPath, _main, freshMain: false)) { }
        Assert.Equal(1, _mirror.Fetches);
        // ... but whether it is on main must be asked of the remote now.
        using (_mirror.Open(_git.OriginPath, _main, freshMain: true)) { }
        Assert.Equal(2, _mirror.Fetches);
    }

    [Fact]
    public async Task A_held_mirror_makes_another_waiter_time_out_and_the_next_one_get_it_once_free()
    {
        var snapshot = _mirror.Open(_git.OriginPath, "main", freshMain: false);
        var other = new RemoteMirror(new RunnerHome(_git.Combine("home"))) { LockTimeout = TimeSpan.FromMilliseconds(200) };

        var ex = Assert.Throws<SourceException>(() => other.Open(_git.OriginPath, "main", freshMain: false));
        Assert.Equal("MirrorBusy", ex.ErrorId);

        var waiting = Task.Run(() =>
        {
            using var next = new RemoteMirror(new RunnerHome(_git.Combine("home"))) { LockTimeout = TimeSpan.FromMinutes(5) }
                .Open(_git.OriginPath, _main, freshMain: false);
            return next.Commit;
        });
        snapshot.Dispose();
        Assert.Equal(_main, await waiting);
    }
}

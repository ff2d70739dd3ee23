using System.Security.Cryptography;
using System.Text;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;
using AnalysisRunner.Core.Policy;
using LibGit2Sharp;

namespace AnalysisRunner.Core.Git;

/// <summary>
/// A bare mirror of each remote in the runner home's git cache: the authority resolves commits and
/// scripts in it and asks it whether a commit is on main, and driver jobs clone from it without going
/// back to the network. Each mirror has a lock file beside it, so concurrent runs take turns instead
/// of corrupting it. Fetches authenticate from the runner's credential source, never from the URL.
/// </summary>
public sealed class RemoteMirror : ICommitOnMainChecker
{
    private const string MainBranch = "refs/heads/main";
    private static readonly string[] MirrorRefSpecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
    private static readonly string[] CheckoutRefSpecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"];

    private readonly RunnerHome _home;
    private readonly GitCredentials _credentials;
    private int _fetches;

    public RemoteMirror(RunnerHome home, GitCredentials? credentials = null)
    {
        _home = home ?? throw new ArgumentNullException(nameof(home));
        _credentials = credentials ?? GitCredentials.None;
    }

    /// <summary>How many fetches this instance made (a submission should make at most one).</summary>
    internal int Fetches => Volatile.Read(ref _fetches);

    /// <summary>How long to wait for another process holding a mirror's lock before giving up.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The mirror's folder for a clone URL (it may not exist yet).</summary>
    public string MirrorPath(string cloneUrl)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(cloneUrl)));
        return Path.Combine(_home.GitCacheDirectory, Convert.ToHexStringLower(hash)[..16] + ".git");
    }

    /// <summary>Fetches every branch and tag from the remote into the mirror (creating it); returns the mirror's path.</summary>
    public string Update(string cloneUrl)
    {
        using var _ = Lock(cloneUrl);
        return FetchLocked(cloneUrl);
    }

    /// <summary>A full sha for HEAD (the remote's main), a branch, a tag or a sha, as the remote has it now.</summary>
    public string ResolveCommit(string cloneUrl, string commitish)
    {
        using var _ = Lock(cloneUrl);
        // A full sha names one commit forever, so a mirror that already has it needs no fetch.
        if (IsFullSha(commitish) && TryFindCommit(cloneUrl, commitish) is { } known) return known;
        var mirror = FetchLocked(cloneUrl);
        using var repository = new Repository(mirror);
        return CommitLookup.Resolve(repository, commitish, Canonical(cloneUrl)).Sha;
    }

    /// <summary>True when the commit is reachable from the remote's main branch, fetched just now.</summary>
    public bool IsOnMain(string cloneUrl, string commit)
    {
        using var _ = Lock(cloneUrl);
        var mirror = FetchLocked(cloneUrl);
        using var repository = new Repository(mirror);
        var target = CommitLookup.Resolve(repository, commit, Canonical(cloneUrl));
        var main = repository.Refs[MainBranch];
        return main is not null && repository.Refs.ReachableFrom([main], [target]).Any();
    }

    /// <summary>
    /// One look at the remote for one submission, holding the mirror's lock until disposed: at most
    /// one fetch (none for a full sha the mirror has, unless main must be fresh), then every question
    /// (which commit, is it on main, which script) answered from the same refs and objects.
    /// </summary>
    public MirrorSnapshot Open(string cloneUrl, string commitish, bool freshMain)
    {
        var held = Lock(cloneUrl);
        try
        {
            var mirror = MirrorPath(cloneUrl);
            if (freshMain || !IsFullSha(commitish) || TryFindCommit(cloneUrl, commitish) is null) mirror = FetchLocked(cloneUrl);
            var repository = new Repository(mirror);
            try
            {
                var commit = CommitLookup.Resolve(repository, commitish, Canonical(cloneUrl));
                return new MirrorSnapshot(held, repository, Canonical(cloneUrl), mirror, commit);
            }
            catch
            {
                repository.Dispose();
                throw;
            }
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A working tree of exactly that commit (detached HEAD, file modes kept) in destination,
    /// which must not exist or be empty. Its origin points at the real remote, not the mirror.
    /// </summary>
    public void Checkout(string cloneUrl, string commit, string destination)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        var fullDestination = Path.GetFullPath(destination);
        if (File.Exists(fullDestination) ||
            (Directory.Exists(fullDestination) && Directory.EnumerateFileSystemEntries(fullDestination).Any()))
            throw new SourceException("CheckoutDestinationNotEmpty", ErrorKind.InvalidArgument, destination,
                $"Cannot check out into '{destination}': it already holds files; give a folder that does not exist or is empty.");

        using var _ = Lock(cloneUrl);
        var mirror = MirrorPath(cloneUrl);
        if (!IsFullSha(commit) || TryFindCommit(cloneUrl, commit) is null) mirror = FetchLocked(cloneUrl);

        var created = !Directory.Exists(fullDestination);
        try
        {
            Repository.Init(fullDestination);
            using var repository = new Repository(fullDestination);
            repository.Network.Remotes.Add("origin", mirror);
            Commands.Fetch(repository, "origin", CheckoutRefSpecs, new FetchOptions { TagFetchMode = TagFetchMode.None }, null);
            repository.Network.Remotes.Update("origin", remote => remote.Url = Canonical(cloneUrl));
            var target = CommitLookup.Resolve(repository, commit, Canonical(cloneUrl));
            Commands.Checkout(repository, target, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
        }
        catch
        {
            TryDelete(fullDestination, keepFolder: !created);
            throw;
        }
    }

    private string FetchLocked(string cloneUrl)
    {
        var url = Canonical(cloneUrl);
        var mirror = MirrorPath(cloneUrl);
        var created = false;
        if (!Directory.Exists(mirror) || !Repository.IsValid(mirror))
        {
            TryDelete(mirror, keepFolder: false);
            Directory.CreateDirectory(_home.GitCacheDirectory);
            Repository.Init(mirror, isBare: true);
            created = true;
        }
        try
        {
            using var repository = new Repository(mirror);
            if (repository.Network.Remotes["origin"] is null) repository.Network.Remotes.Add("origin", url);
            else if (repository.Network.Remotes["origin"].Url != url)
                repository.Network.Remotes.Update("origin", remote => remote.Url = url);
            Interlocked.Increment(ref _fetches);
            Commands.Fetch(repository, "origin", MirrorRefSpecs,
                new FetchOptions { TagFetchMode = TagFetchMode.None, CredentialsProvider = _credentials.Handler }, null);
            // HEAD of the mirror means the remote's main, which is what the policy calls main.
            if (repository.Refs[MainBranch] is { } main) repository.Refs.UpdateTarget(repository.Refs["HEAD"], main);
        }
        catch (LibGit2SharpException ex)
        {
            if (created) TryDelete(mirror, keepFolder: false);
            throw new SourceException("RepositoryUnreachable", ErrorKind.ResourceUnavailable, cloneUrl,
                $"Could not fetch from '{cloneUrl}' ({ex.Message}); check the URL, that the repository exists and that you can reach it.", ex);
        }
        return mirror;
    }

    private string? TryFindCommit(string cloneUrl, string sha)
    {
        var mirror = MirrorPath(cloneUrl);
        if (!Directory.Exists(mirror) || !Repository.IsValid(mirror)) return null;
        using var repository = new Repository(mirror);
        return repository.Lookup<Commit>(sha)?.Sha;
    }

    private IDisposable Lock(string cloneUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cloneUrl);
        Directory.CreateDirectory(_home.GitCacheDirectory);
        var lockPath = MirrorPath(cloneUrl) + ".lock";
        return FileLock.Acquire(lockPath, LockTimeout, () => new SourceException("MirrorBusy", ErrorKind.ResourceUnavailable, cloneUrl,
            $"Another process has held the git cache lock '{lockPath}' for over {LockTimeout.TotalMinutes:0.#} minutes; try again, or remove the lock if no runner is using it."));
    }

    /// <summary>Local paths become absolute so one mirror serves a repository however it was spelled.</summary>
    internal static string Canonical(string cloneUrl)
    {
        var trimmed = cloneUrl.Trim();
        return Directory.Exists(trimmed) ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(trimmed)) : trimmed;
    }

    private static bool IsFullSha(string value) =>
        value.Length == 40 && value.All(Uri.IsHexDigit);

    private static void TryDelete(string path, bool keepFolder)
    {
        try
        {
            if (!Directory.Exists(path)) return;
            if (!keepFolder) { Directory.Delete(path, recursive: true); return; }
            foreach (var entry in new DirectoryInfo(path).EnumerateFileSystemInfos())
                if (entry is DirectoryInfo folder) folder.Delete(recursive: true); else entry.Delete();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Leaving debris is better than hiding the error that got us here.
        }
    }
}

/// <summary>The mirror as one submission sees it: its lock held, one repository open, the commit resolved.</summary>
public sealed class MirrorSnapshot : ICommitSource, IDisposable
{
    private const string MainBranch = "refs/heads/main";
    private readonly IDisposable _lock;
    private readonly Repository _repository;
    private readonly Commit _commit;

    internal MirrorSnapshot(IDisposable held, Repository repository, string cloneUrl, string mirrorPath, Commit commit)
    {
        _lock = held;
        _repository = repository;
        CloneUrl = cloneUrl;
        MirrorPath = mirrorPath;
        _commit = commit;
    }

    public string CloneUrl { get; }

    /// <summary>The bare mirror the driver clones from.</summary>
    public string MirrorPath { get; }

    /// <summary>The full sha the commitish resolved to.</summary>
    public string Commit => _commit.Sha;

    public bool IsOnMain(string cloneUrl, string commit)
    {
        var target = CommitLookup.Resolve(_repository, commit, CloneUrl);
        var main = _repository.Refs[MainBranch];
        return main is not null && _repository.Refs.ReachableFrom([main], [target]).Any();
    }

    /// <summary>Asked by the rule, its explanation and the driver command: each script is looked up once (refusals are not kept).</summary>
    public CommitScript ResolveScript(string commit, string cwd, string script)
    {
        if (_scripts.TryGetValue((commit, cwd, script), out var known)) return known;
        var resolved = CommitScripts.Resolve(CommitLookup.Resolve(_repository, commit, CloneUrl), cwd, script);
        _scripts[(commit, cwd, script)] = resolved;
        return resolved;
    }

    private readonly Dictionary<(string Commit, string Cwd, string Script), CommitScript> _scripts = [];

    public void Dispose()
    {
        _repository.Dispose();
        _lock.Dispose();
    }
}
